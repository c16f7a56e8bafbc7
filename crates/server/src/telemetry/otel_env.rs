//! The standard `OTEL_*` variables this process reads itself, checked once at start. The SDK and
//! the OTLP exporter read the rest on their own: `OTEL_SERVICE_NAME` and
//! `OTEL_RESOURCE_ATTRIBUTES` (the resource), `OTEL_TRACES_SAMPLER[_ARG]`, `OTEL_BSP_*` (the
//! batch processor), `OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`, `…_HEADERS`, `…_TIMEOUT` and
//! `…_COMPRESSION`. What the SDK cannot honour here — another exporter, OTLP over gRPC or JSON —
//! is refused with one line rather than ignored (opentelemetry-otlp would quietly fall back to
//! HTTP/protobuf and fail every export against a gRPC port).

use std::fmt;

/// `OTEL_SDK_DISABLED`: `true` turns every span and trace id off.
pub const SDK_DISABLED: &str = "OTEL_SDK_DISABLED";
/// `OTEL_TRACES_EXPORTER`: `otlp` or `none`.
pub const TRACES_EXPORTER: &str = "OTEL_TRACES_EXPORTER";
/// `OTEL_EXPORTER_OTLP_PROTOCOL`: only `http/protobuf` in this build.
pub const PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
/// The traces-only form of [`PROTOCOL`], which wins over it.
pub const TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";
/// The endpoints; one of them set turns export on unless [`TRACES_EXPORTER`] says `none`.
pub const ENDPOINTS: [&str; 2] = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"];
/// `OTEL_SERVICE_NAME`.
pub const SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
/// `OTEL_RESOURCE_ATTRIBUTES`.
pub const RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";

/// What the `OTEL_*` variables ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtelMode {
    /// `OTEL_SDK_DISABLED=true`: no OpenTelemetry at all (no spans exported, no trace ids).
    Disabled,
    /// Spans get trace ids (in the logs, continued from a `traceparent`) but go nowhere: no
    /// endpoint, or `OTEL_TRACES_EXPORTER=none`.
    NotExported,
    /// Spans go out over OTLP/HTTP with protobuf.
    Otlp,
}

/// A variable set to something this build cannot do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtelEnvError {
    variable: &'static str,
    value: String,
    hint: &'static str,
}

impl fmt::Display for OtelEnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={:?} is not supported: {}", self.variable, self.value, self.hint)
    }
}

impl std::error::Error for OtelEnvError {}

impl OtelMode {
    /// Reads the process environment.
    ///
    /// # Errors
    /// When a variable asks for something this build cannot do.
    pub fn from_env() -> Result<Self, OtelEnvError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `var` (tests pass a map).
    ///
    /// # Errors
    /// When a variable asks for something this build cannot do.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, OtelEnvError> {
        let get = |name: &str| var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        if get(SDK_DISABLED).is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Ok(Self::Disabled);
        }
        let export = match get(TRACES_EXPORTER).map(|v| v.to_ascii_lowercase()).as_deref() {
            Some("none") => return Ok(Self::NotExported),
            Some("otlp") => true,
            None => ENDPOINTS.iter().any(|e| get(e).is_some()),
            Some(_) => {
                return Err(OtelEnvError {
                    variable: TRACES_EXPORTER,
                    value: get(TRACES_EXPORTER).unwrap_or_default(),
                    hint: "use otlp or none",
                });
            }
        };
        if !export {
            return Ok(Self::NotExported);
        }
        let (variable, protocol) = match get(TRACES_PROTOCOL) {
            Some(p) => (TRACES_PROTOCOL, Some(p)),
            None => (PROTOCOL, get(PROTOCOL)),
        };
        match protocol {
            None => Ok(Self::Otlp),
            Some(p) if p.eq_ignore_ascii_case("http/protobuf") => Ok(Self::Otlp),
            Some(value) => Err(OtelEnvError {
                variable,
                value,
                hint: "this build exports OTLP over http/protobuf only (a collector's port 4318); \
                       grpc and http/json are not built in",
            }),
        }
    }
}

/// Whether the resource's `service.name` is left to the environment (`OTEL_SERVICE_NAME`, or
/// `service.name=` in `OTEL_RESOURCE_ATTRIBUTES`); otherwise it is `workplan`.
pub fn service_name_from_env() -> bool {
    std::env::var(SERVICE_NAME).is_ok_and(|v| !v.trim().is_empty())
        || std::env::var(RESOURCE_ATTRIBUTES)
            .is_ok_and(|v| v.split(',').any(|kv| kv.split('=').next().is_some_and(|k| k.trim() == "service.name")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(vars: &[(&str, &str)]) -> Result<OtelMode, OtelEnvError> {
        OtelMode::from_lookup(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn reads_the_standard_variables() {
        assert_eq!(mode(&[]), Ok(OtelMode::NotExported));
        assert_eq!(mode(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")]), Ok(OtelMode::Otlp));
        assert_eq!(mode(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/v1/traces")]), Ok(OtelMode::Otlp));
        assert_eq!(mode(&[(TRACES_EXPORTER, "otlp")]), Ok(OtelMode::Otlp));
        assert_eq!(
            mode(&[(TRACES_EXPORTER, "none"), ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")]),
            Ok(OtelMode::NotExported)
        );
        assert_eq!(
            mode(&[(SDK_DISABLED, "TRUE"), (PROTOCOL, "grpc"), (TRACES_EXPORTER, "otlp")]),
            Ok(OtelMode::Disabled)
        );
        assert_eq!(mode(&[(SDK_DISABLED, "false"), (TRACES_EXPORTER, "otlp")]), Ok(OtelMode::Otlp));
        assert_eq!(mode(&[(TRACES_EXPORTER, "otlp"), (PROTOCOL, "http/protobuf")]), Ok(OtelMode::Otlp));
        // No export: the protocol does not matter.
        assert_eq!(mode(&[(PROTOCOL, "grpc")]), Ok(OtelMode::NotExported));
    }

    #[test]
    fn refuses_what_it_cannot_do() {
        let grpc = mode(&[(TRACES_EXPORTER, "otlp"), (PROTOCOL, "grpc")]).expect_err("grpc");
        assert!(grpc.to_string().starts_with("OTEL_EXPORTER_OTLP_PROTOCOL=\"grpc\" is not supported"), "{grpc}");
        let json = mode(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c"),
            (PROTOCOL, "http/protobuf"),
            (TRACES_PROTOCOL, "http/json"),
        ]);
        assert_eq!(json.expect_err("json").variable, TRACES_PROTOCOL);
        let zipkin = mode(&[(TRACES_EXPORTER, "zipkin")]).expect_err("zipkin");
        assert_eq!(zipkin.to_string(), "OTEL_TRACES_EXPORTER=\"zipkin\" is not supported: use otlp or none");
        assert!(!zipkin.to_string().contains('\n'));
    }
}
