//! The generated protobuf and gRPC types of `ebl.v1` (from `proto/`). Only the edge modules
//! (`wire`, `api`, `client`, `store`'s value encoding) use them; the core never does.
#![allow(missing_docs, clippy::all)]

tonic::include_proto!("ebl.v1");

/// The encoded file descriptor set, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("ebl_descriptor");
