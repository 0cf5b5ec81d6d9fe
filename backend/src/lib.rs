//! Berth: a self-hosted container engine that speaks the Docker Engine API.
//!
//! The engine modules (`image`, `registry`, and later `build`, `runtime`,
//! `network`) take plain values and know nothing of HTTP or the database.
//! `api` is the HTTP face over them, `db` the SQLite state, `daemon` wires
//! them together, and `cli` is the docker-style client. See ARCHITECTURE.md.

#![recursion_limit = "256"]

pub mod api;
pub mod auth;
pub mod build;
pub mod cli;
pub mod container;
pub mod daemon;
pub mod db;
pub mod fsutil;
pub mod fuzzing;
pub mod hostinfo;
pub mod httpc;
pub mod image;
pub mod network;
pub mod registry;
pub mod runtime;
pub mod sys;
pub mod timefmt;
