//! The two text formats `/metrics` speaks, chosen by the scraper's `Accept` header: OpenMetrics
//! 1.0 (what prometheus-client writes) and the Prometheus text format 0.0.4 (the default, and
//! what a scraper without OpenMetrics support asks for). prometheus-client writes only the
//! first; [`to_prometheus_004`] rewrites it: counters are declared under their `_total` name,
//! `info` metrics become gauges named `…_info`, and `# UNIT` and `# EOF` lines go.

/// A metrics text format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposition {
    /// `application/openmetrics-text; version=1.0.0`.
    OpenMetrics,
    /// `text/plain; version=0.0.4`.
    Prometheus,
}

impl Exposition {
    /// The `Content-Type` of an answer in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Self::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
        }
    }

    /// The format an `Accept` header prefers: OpenMetrics when it is accepted with a quality
    /// at least that of `text/plain` (and of `*/*` when `text/plain` is not named), the
    /// Prometheus text format otherwise — with no header, or one naming neither, included.
    pub fn negotiate(accept: Option<&str>) -> Self {
        let (mut open_metrics, mut text, mut any) = (0.0_f32, None::<f32>, None::<f32>);
        for range in accept.unwrap_or_default().split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.strip_prefix("q="))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0)
                .clamp(0.0, 1.0);
            match media.as_str() {
                "application/openmetrics-text" => open_metrics = open_metrics.max(q),
                "text/plain" => text = Some(text.unwrap_or(0.0).max(q)),
                "*/*" | "text/*" => any = Some(any.unwrap_or(0.0).max(q)),
                _ => {}
            }
        }
        let text = text.or(any).unwrap_or(0.0);
        if open_metrics > 0.0 && open_metrics >= text { Self::OpenMetrics } else { Self::Prometheus }
    }
}

/// Rewrites OpenMetrics text as written by prometheus-client into the Prometheus text format
/// 0.0.4.
pub(crate) fn to_prometheus_004(open_metrics: &str) -> String {
    let mut out = String::with_capacity(open_metrics.len());
    let lines: Vec<&str> = open_metrics.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if *line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or_default();
            // The TYPE line follows the HELP line (and its UNIT line, when there is one).
            let kind = lines[i + 1..]
                .iter()
                .take(2)
                .find_map(|l| l.strip_prefix("# TYPE ")?.strip_prefix(name)?.strip_prefix(' '))
                .unwrap_or("unknown");
            out.push_str(&format!("# HELP {}{}\n", declared(name, kind), &rest[name.len()..]));
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "unknown"));
            let kind_004 = match kind {
                "counter" | "gauge" | "histogram" | "summary" => kind,
                "info" | "stateset" => "gauge",
                _ => "untyped",
            };
            out.push_str(&format!("# TYPE {} {kind_004}\n", declared(name, kind)));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The name a metric family is declared under in the text format 0.0.4: the name of its samples.
fn declared(name: &str, kind: &str) -> String {
    match kind {
        "counter" => format!("{name}_total"),
        "info" => format!("{name}_info"),
        _ => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_by_quality() {
        use Exposition::{OpenMetrics, Prometheus};
        assert_eq!(Exposition::negotiate(None), Prometheus);
        assert_eq!(Exposition::negotiate(Some("*/*")), Prometheus);
        assert_eq!(Exposition::negotiate(Some("text/plain;version=0.0.4")), Prometheus);
        assert_eq!(Exposition::negotiate(Some("application/openmetrics-text; version=1.0.0")), OpenMetrics);
        // What Prometheus 2.x sends.
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Exposition::negotiate(Some(prometheus)), OpenMetrics);
        // A scraper that prefers the text format.
        let text_first = "text/plain;version=0.0.4;q=1,application/openmetrics-text;version=1.0.0;q=0.5";
        assert_eq!(Exposition::negotiate(Some(text_first)), Prometheus);
        assert_eq!(Exposition::negotiate(Some("application/openmetrics-text;q=0")), Prometheus);
        assert_eq!(Exposition::negotiate(Some("application/json")), Prometheus);
    }

    #[test]
    fn rewrites_to_the_text_format() {
        let om = "# HELP app_requests Requests.\n# TYPE app_requests counter\napp_requests_total{a=\"b\"} 1\n\
                  # HELP app_up Up.\n# TYPE app_up gauge\n# UNIT app_up seconds\napp_up 1\n\
                  # HELP app_build Build.\n# TYPE app_build info\napp_build_info{version=\"1\"} 1\n# EOF\n";
        let text = to_prometheus_004(om);
        assert_eq!(
            text,
            "# HELP app_requests_total Requests.\n# TYPE app_requests_total counter\napp_requests_total{a=\"b\"} 1\n\
             # HELP app_up Up.\n# TYPE app_up gauge\napp_up 1\n\
             # HELP app_build_info Build.\n# TYPE app_build_info gauge\napp_build_info{version=\"1\"} 1\n"
        );
    }
}
