//! A request as the pipeline sees it, whichever front end (API Gateway or the local server)
//! received it, and the slice of it a handler gets.

use bytes::Bytes;
use http::{HeaderMap, Method};
use itinera::accounts::ResolvedLogin;
use itinera::entity::{EntityId, Stored};
use itinera::error::DomainError;
use itinera::identity::{Principal, RequestContext};
use itinera::version::Precondition;
use serde::de::value::StrDeserializer;
use serde::de::{DeserializeOwned, IntoDeserializer};

use super::fields::{Field, JsonFields, QueryParams, names};
use super::problem::ApiError;
use super::reply::if_match_versions;

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A request's body as the front end received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestBody {
    Complete(Bytes),
    /// The front end stopped reading at [`MAX_BODY_BYTES`].
    TooLarge,
}

/// An HTTP request, normalized by the front end.
#[derive(Clone, Debug)]
pub struct ApiRequest {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: RequestBody,
    /// API Gateway's request id in Lambda, a fresh UUID locally.
    pub request_id: String,
    /// Where the caller's identity comes from.
    pub credentials: Credentials,
    /// The client address as the front end saw it (API Gateway's source IP, the socket's peer
    /// address locally); never taken from a client-supplied header.
    pub client_ip: Option<String>,
}

/// How the pipeline learns who is calling. On a route whose access is anonymous it reads neither:
/// both front ends answer such a route alike, whatever the `Authorization` header says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credentials {
    /// The pipeline verifies the request's `Authorization: Bearer` token itself (the local API).
    BearerHeader,
    /// The front end verified them already (API Gateway's Lambda authorizer); `None` when the
    /// route has no authorizer and the caller is anonymous.
    Verified(Option<Principal>),
}

/// Path parameters captured by a route's template (`{id}`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathParams(Vec<(String, String)>);

impl PathParams {
    pub fn new(params: Vec<(String, String)>) -> Self {
        Self(params)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The last parameter: the one that names the resource in `/v1/<collection>/{id}`.
    pub fn last(&self) -> Option<&str> {
        self.0.last().map(|(_, value)| value.as_str())
    }
}

/// What a handler receives: the parts of the request it may act on.
#[derive(Clone, Debug)]
pub struct Input {
    /// The request id and the authenticated caller, if any.
    pub context: RequestContext,
    pub params: PathParams,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The account the body's login names, when the pipeline already followed it there for the
    /// per-account sign-in limit: the sign-in reuses it rather than read it again.
    pub resolved_login: Option<ResolvedLogin>,
    /// Whether a shared cache keeps the route's answers under a key of its declared parameters
    /// (see `caching`): then the answer must depend on nothing else, so query parameters the
    /// handler does not declare are ignored rather than refused, and a repeated one counts by its
    /// last value, as API Gateway reads it into the key. Otherwise a request adding `&x=1` would
    /// make a 400 that the cache serves to every caller of the same search.
    pub shared: bool,
}

impl Input {
    /// A path parameter; the route template guarantees its presence.
    pub fn param(&self, name: &str) -> &str {
        self.params.get(name).unwrap_or_default()
    }

    /// The signed-in caller; the route's access already required one, so none is a 401 only
    /// when a route is declared anonymous by mistake.
    pub fn caller(&self) -> Result<&Principal, ApiError> {
        self.context
            .principal
            .as_ref()
            .ok_or_else(|| ApiError::Unauthorized {
                detail: "This route needs an access token: send `Authorization: Bearer <token>`."
                    .into(),
            })
    }

    /// The id of the entity the path names (its last parameter), read by the same parser as
    /// stored ids; text that cannot be an id names no entity, so it is the kind's 404, as an
    /// unknown id is.
    pub fn entity_id<I: EntityId + DeserializeOwned>(&self) -> Result<I, ApiError> {
        let text: StrDeserializer<'_, serde::de::value::Error> =
            self.params.last().unwrap_or_default().into_deserializer();
        I::deserialize(text).map_err(|_| {
            ApiError::from(DomainError::NotFound {
                entity: <I::Entity as Stored>::KIND,
            })
        })
    }

    /// The JSON object body, restricted to `allowed` fields.
    pub fn json_fields(&self, allowed: &[Field]) -> Result<JsonFields, ApiError> {
        JsonFields::from_body(&self.body, allowed)
    }

    /// The body of an action that carries nothing (a cancellation, a delete): none, or an empty
    /// JSON object; any field, and anything that is not a JSON object (whitespace alone included:
    /// it is not JSON), is refused.
    pub fn no_body(&self) -> Result<(), ApiError> {
        if !self.body.is_empty() {
            self.json_fields(&[])?;
        }
        Ok(())
    }

    /// An update's JSON object body: only `allowed` fields, and at least one of them.
    pub fn json_changes(&self, allowed: &[Field]) -> Result<JsonFields, ApiError> {
        let fields = self.json_fields(allowed)?;
        if fields.is_empty() {
            return Err(ApiError::BadRequest {
                detail: format!(
                    "The body must change at least one of: {}.",
                    names(allowed).join(", ")
                ),
            });
        }
        Ok(fields)
    }

    /// The query string, restricted to `allowed` parameters (see [`Input::shared`] for a
    /// cacheable route's).
    pub fn query_params(&self, allowed: &[Field]) -> Result<QueryParams, ApiError> {
        if self.shared {
            QueryParams::from_shared_query(self.query.as_deref(), allowed)
        } else {
            QueryParams::from_query(self.query.as_deref(), allowed)
        }
    }

    /// The caller's `If-Match` precondition.
    pub fn precondition(&self) -> Precondition {
        match if_match_versions(&self.headers) {
            None => Precondition::None,
            Some(Err(())) => Precondition::AnyVersion,
            Some(Ok(versions)) => Precondition::OneOf(versions),
        }
    }
}
