//! The protobuf messages and gRPC client of `ebl.v1` (from ebl-client, over ebl-verify's
//! messages), and the generated gRPC service. Only the edge modules (`wire`, `api`, `client`,
//! `store`'s value encoding) use them; the core never does.
#![allow(missing_docs, clippy::all)]

pub use ebl_client::pb::*;

tonic::include_proto!("ebl.v1");

/// The encoded file descriptor set, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("ebl_descriptor");
