//! The generated protobuf message types of `ebl.v1` (from `proto/`). Only the edge modules use
//! them; the core never does.
#![allow(missing_docs, clippy::all)]

include!(concat!(env!("OUT_DIR"), "/ebl.v1.rs"));
