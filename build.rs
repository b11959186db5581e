//! Generates the gRPC service of `ebl.v1` from proto/ over the message types of ebl-verify, with
//! the file descriptor set for server reflection, and the cluster's peer protocol (client and
//! server, `ebl.cluster.v1`). protoc ships inside protoc-bin-vendored.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?);
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .build_client(false)
        .extern_path(".ebl.v1", "::ebl_verify::pb")
        .file_descriptor_set_path(out.join("ebl_descriptor.bin"))
        .compile_protos(&["proto/ebl/v1/ledger.proto", "proto/ebl/v1/record.proto"], &["proto"])?;
    // The peer protocol of a cluster: client and server, never in the public reflection.
    tonic_prost_build::configure()
        .extern_path(".ebl.v1", "::ebl_verify::pb")
        .compile_protos(&["proto/ebl/cluster/v1/peer.proto"], &["proto"])?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
