//! The protobuf message types of `ebl.v1` (from ebl-verify) and the generated gRPC client.
#![allow(missing_docs, clippy::all)]

pub use ebl_verify::pb::*;

tonic::include_proto!("ebl.v1");
