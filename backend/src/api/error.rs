//! `ApiError`: Docker's error JSON (`{"message": …}`) with Docker's status codes,
//! and the mapping from each engine error to them.

use crate::db::DbError;
use crate::image::ImageError;
use crate::registry::RegistryError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_types::ErrorResponse;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = %self.status, message = %self.message, "request failed");
        }
        (
            self.status,
            Json(ErrorResponse {
                message: self.message,
            }),
        )
            .into_response()
    }
}

/// Docker's status code for an image store error.
fn image_status(e: &ImageError) -> StatusCode {
    match e {
        ImageError::NotFound(_) => StatusCode::NOT_FOUND,
        ImageError::Conflict(_) => StatusCode::CONFLICT,
        ImageError::Io { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        ImageError::Reference(_)
        | ImageError::Digest(_)
        | ImageError::InvalidArchive(_)
        | ImageError::UnsafeEntry { .. }
        | ImageError::DigestMismatch { .. }
        | ImageError::Invalid(_)
        | ImageError::Json { .. } => StatusCode::BAD_REQUEST,
    }
}

impl From<ImageError> for ApiError {
    fn from(e: ImageError) -> Self {
        ApiError::new(image_status(&e), e.to_string())
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        let status = match &e {
            RegistryError::Image(i) => image_status(i),
            RegistryError::ManifestUnknown { .. } => StatusCode::NOT_FOUND,
            // Docker answers 404 here too: a 401 makes the docker CLI prompt for a login.
            RegistryError::Unauthorized { .. } => StatusCode::NOT_FOUND,
            RegistryError::Unsupported(_) | RegistryError::BadAuth(_) => StatusCode::BAD_REQUEST,
            RegistryError::Unreachable { .. } | RegistryError::Protocol { .. } => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<crate::container::ContainerError> for ApiError {
    fn from(e: crate::container::ContainerError) -> Self {
        use crate::container::ContainerError as E;
        let status = match &e {
            E::NotFound(_) | E::NoSuch(_) => StatusCode::NOT_FOUND,
            E::Conflict(_) => StatusCode::CONFLICT,
            E::Invalid(_) | E::StartFailed(..) => StatusCode::BAD_REQUEST,
            E::NotModified(_) => StatusCode::NOT_MODIFIED,
            E::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<crate::network::store::NetworkError> for ApiError {
    fn from(e: crate::network::store::NetworkError) -> Self {
        crate::container::ContainerError::from(e).into()
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ApiError::internal(e.to_string())
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::internal(format!("internal task failed: {e}"))
    }
}
