//! Generates the protobuf message types of `ebl.v1` from ../proto (protoc ships inside
//! protoc-bin-vendored). Messages only: the gRPC stubs live in ebl-client and ebl-ledger.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?);
    prost_build::Config::new()
        .compile_protos(&["../proto/ebl/v1/ledger.proto", "../proto/ebl/v1/record.proto"], &["../proto"])?;
    println!("cargo:rerun-if-changed=../proto");
    Ok(())
}
