//! Generates the gRPC client of `ebl.v1` from ../proto over the message types of ebl-verify
//! (protoc ships inside protoc-bin-vendored).
fn main() -> Result<(), Box<dyn std::error::Error>> {
    std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?);
    tonic_prost_build::configure()
        .build_server(false)
        .extern_path(".ebl.v1", "::ebl_verify::pb")
        .compile_protos(&["../proto/ebl/v1/ledger.proto", "../proto/ebl/v1/record.proto"], &["../proto"])?;
    println!("cargo:rerun-if-changed=../proto");
    Ok(())
}
