//! What the generator knows of a function: its trigger, what it may touch, and what the catalog
//! says of it. The permissions ([`Grants`]), the environment and the logical ids all follow from
//! these, in one place each.

use crate::catalog::{self, Line, Principal, Sample};

/// What a function may do to the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TableAccess {
    None,
    /// `GetItem` and `Query`.
    Read,
    /// Reads plus `PutItem`, `UpdateItem`, `DeleteItem` and `ConditionCheckItem`.
    ReadWrite,
}

/// What a function does with uploaded files, under one scope (a key pattern with `*` for each
/// id, as the route table declares it): which S3 actions it gets, on which prefixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileAccess {
    /// Signs upload URLs: `s3:PutObject` under `uploads/<scope>/`.
    Upload(&'static str),
    /// Confirms uploads: reads and deletes under `uploads/<scope>/`, writes under
    /// `files/<scope>/`.
    Confirm(&'static str),
    /// Signs download URLs: `s3:GetObject` under `files/<scope>/`.
    Download(&'static str),
}

impl FileAccess {
    /// `UploadsCarsAnyInsuranceAny` for an upload under `cars/*/insurance/*`: the access and its
    /// scope in a role's name, each `*` spelt `Any` so that no two scopes read alike.
    fn role_part(self) -> String {
        let (verb, scope) = match self {
            Self::Upload(scope) => ("Uploads", scope),
            Self::Confirm(scope) => ("Confirms", scope),
            Self::Download(scope) => ("Downloads", scope),
        };
        verb.to_owned() + &pascal_case(&scope.replace('*', "-any-"))
    }
}

/// A route's endpoint.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// Upper-case HTTP method.
    pub method: String,
    /// The path template, with `{name}` parameters.
    pub path: String,
    /// Whether the route is reached without a token (outside the authorizer).
    pub anonymous: bool,
    /// Who the sample event is from: the least role the route admits; `None` when anonymous.
    pub principal: Option<Principal>,
    /// How the stage cache keeps the route's answers; `None` when it must not.
    pub caching: Option<StageCache>,
}

/// A route's entry in the stage cache: how long, and the request parts its key is made of (the
/// route table's [`cache_key`](itinera_http::caching::cache_key)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageCache {
    pub ttl_seconds: u32,
    /// Path parameters (`id`).
    pub path: Vec<String>,
    /// Query parameters, as the handler accepts them.
    pub query: Vec<String>,
    /// Request headers (`Origin`).
    pub headers: Vec<String>,
}

impl StageCache {
    /// The key's request parameters as API Gateway names them
    /// (`method.request.querystring.from`), each with whether the method requires it: path
    /// parameters are always present, the function itself checks the others.
    pub fn request_parameters(&self) -> Vec<(String, bool)> {
        let named = |location: &str, names: &[String], required: bool| {
            names
                .iter()
                .map(|name| (format!("method.request.{location}.{name}"), required))
                .collect::<Vec<_>>()
        };
        let mut parameters = named("path", &self.path, true);
        parameters.extend(named("querystring", &self.query, false));
        parameters.extend(named("header", &self.headers, false));
        parameters
    }
}

/// `/~1v1~1flights~1{id}` for `/v1/flights/{id}`: a resource path as a stage's method settings
/// name it, each `/` escaped as `~1` after the leading one.
pub fn method_setting_path(path: &str) -> String {
    format!("/{}", path.replace('/', "~1"))
}

/// What starts a function.
#[derive(Clone, Debug)]
pub enum Kind {
    /// One route of the API.
    Route(Endpoint),
    /// `OPTIONS` on every route path.
    Preflight { paths: Vec<String> },
    /// The Lambda authorizer API Gateway calls.
    Authorizer,
    /// The jobs queue's worker.
    Worker,
    /// A scheduled function, at an EventBridge `rate(...)`.
    Schedule { expression: String },
}

/// One function of the stack.
#[derive(Clone, Debug)]
pub struct Function {
    /// The function and binary name (kebab-case).
    pub name: String,
    pub kind: Kind,
    pub table: TableAccess,
    pub signs_tokens: bool,
    pub verifies_tokens: bool,
    pub enqueues_jobs: bool,
    pub sends_email: bool,
    pub moves_money: bool,
    /// Whether it addresses the fleet's staff: it gets `FLEET_ALERTS_EMAIL`.
    pub alerts_fleet: bool,
    pub pages: bool,
    /// What it does with uploaded files: these functions get `BLOB_BUCKET` and their S3 grants.
    pub files: Option<FileAccess>,
    /// The template's description of the function.
    pub description: String,
    /// The product line whose log group it writes to.
    pub line: Line,
    /// What its sample event carries beyond what the tables say.
    pub sample: &'static Sample,
}

/// The permissions of a function, beyond logging and tracing. Functions with equal grants share
/// one IAM role, so a role's policy is exactly what each of its functions needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Grants {
    pub table: TableAccess,
    /// `sqs:SendMessage` on the jobs queue.
    pub send_jobs: bool,
    /// Receiving and deleting the jobs queue's messages (its event source mapping).
    pub receive_jobs: bool,
    /// `ssm:GetParameter` on the private key's parameter.
    pub private_key: bool,
    /// `ssm:GetParameter` on the public key's parameter.
    pub public_key: bool,
    /// `ses:SendEmail` from the sender identity.
    pub send_email: bool,
    /// The S3 actions on the files bucket, under one scope.
    pub files: Option<FileAccess>,
}

impl Function {
    /// A function with nothing but its trigger and table access; the catalog gives its
    /// description, product line and sample, and an error names a function it does not know.
    pub fn new(name: &str, kind: Kind, table: TableAccess) -> Result<Self, String> {
        let entry = catalog::entry(name).ok_or_else(|| {
            format!(
                "{name} has no entry in infra/xtask/src/catalog.rs: give it a description, a \
                 product line and (for a route with a body or query) its sample"
            )
        })?;
        let mut function = Self::described(name, kind, table, entry.description, entry.line);
        function.sample = &entry.sample;
        Ok(function)
    }

    /// A function with nothing but its trigger and table access, described and filed under
    /// `line` directly (the resource budget's synthetic routes, which the catalog does not know).
    pub fn described(
        name: &str,
        kind: Kind,
        table: TableAccess,
        description: &str,
        line: Line,
    ) -> Self {
        Self {
            name: name.to_string(),
            kind,
            table,
            signs_tokens: false,
            verifies_tokens: false,
            enqueues_jobs: false,
            sends_email: false,
            moves_money: false,
            alerts_fleet: false,
            pages: false,
            files: None,
            description: description.to_string(),
            line,
            sample: &Sample::NONE,
        }
    }

    /// `HealthFunction` for `health`, `CreateAirplaneFunction` for `create-airplane`.
    pub fn logical_id(&self) -> String {
        pascal_case(&self.name) + "Function"
    }

    /// The route's endpoint, for a route function.
    pub fn endpoint(&self) -> Option<&Endpoint> {
        match &self.kind {
            Kind::Route(endpoint) => Some(endpoint),
            _ => None,
        }
    }

    /// What the function may do, from its table entry.
    pub fn grants(&self) -> Grants {
        Grants {
            table: self.table,
            send_jobs: self.enqueues_jobs,
            receive_jobs: matches!(self.kind, Kind::Worker),
            private_key: self.signs_tokens,
            public_key: self.verifies_tokens,
            send_email: self.sends_email,
            files: self.files,
        }
    }
}

impl Grants {
    /// The logical id of the role holding these grants, named after them
    /// (`ReadsTableRole`, `WritesTableSendsJobsRole`, `LogsOnlyRole`).
    pub fn role_id(&self) -> String {
        let mut id = String::new();
        match self.table {
            TableAccess::None => {}
            TableAccess::Read => id.push_str("ReadsTable"),
            TableAccess::ReadWrite => id.push_str("WritesTable"),
        }
        for (granted, part) in [
            (self.send_jobs, "SendsJobs"),
            (self.receive_jobs, "ReceivesJobs"),
            (self.private_key, "SignsTokens"),
            (self.public_key, "VerifiesTokens"),
            (self.send_email, "SendsEmail"),
        ] {
            if granted {
                id.push_str(part);
            }
        }
        if let Some(files) = self.files {
            id.push_str(&files.role_part());
        }
        if id.is_empty() {
            id.push_str("LogsOnly");
        }
        id + "Role"
    }
}

/// `CreateAirplane` for `create-airplane`, `V1AirplanesId` for the segments of
/// `/v1/airplanes/{id}`: each word capitalised, everything but ASCII letters and digits dropped.
pub fn pascal_case(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect::<String>()
        })
        .collect()
}

/// `GET_AIRPLANE` for `get-airplane`: the name of a route's static in the route table.
pub fn static_name(function: &str) -> String {
    function.replace('-', "_").to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_derive_as_the_template_and_the_route_table_spell_them() {
        assert_eq!(
            method_setting_path("/v1/flights/{id}"),
            "/~1v1~1flights~1{id}"
        );
        assert_eq!(pascal_case("create-airplane"), "CreateAirplane");
        assert_eq!(pascal_case("/v1/airplanes/{id}"), "V1AirplanesId");
        assert_eq!(static_name("list-audit-entries"), "LIST_AUDIT_ENTRIES");
    }

    #[test]
    fn roles_are_named_after_their_grants_and_differ_when_the_grants_do() {
        let none = Grants {
            table: TableAccess::None,
            send_jobs: false,
            receive_jobs: false,
            private_key: false,
            public_key: false,
            send_email: false,
            files: None,
        };
        assert_eq!(none.role_id(), "LogsOnlyRole");
        let worker = Grants {
            table: TableAccess::ReadWrite,
            receive_jobs: true,
            send_email: true,
            ..none
        };
        assert_eq!(worker.role_id(), "WritesTableReceivesJobsSendsEmailRole");
        let read = Grants {
            table: TableAccess::Read,
            ..none
        };
        assert_ne!(read.role_id(), worker.role_id());
        let upload = Grants {
            table: TableAccess::ReadWrite,
            files: Some(FileAccess::Upload("cars/*/insurance/*")),
            ..none
        };
        assert_eq!(
            upload.role_id(),
            "WritesTableUploadsCarsAnyInsuranceAnyRole"
        );
        // Scopes that differ only where a `*` stands do not share a role name.
        let photos = Grants {
            files: Some(FileAccess::Upload("cars/insurance")),
            ..upload
        };
        assert_ne!(upload.role_id(), photos.role_id());
        let confirm = Grants {
            files: Some(FileAccess::Confirm("cars/*/insurance/*")),
            ..upload
        };
        assert_ne!(upload.role_id(), confirm.role_id());
    }
}
