//! Which HTTP redirects wharf follows for MCP: a configured header, a
//! bearer token or an OAuth token must reach the configured server only.
//!
//! reqwest's own policy follows up to ten redirects to anywhere, dropping
//! only `Authorization` and cookies on the way to another host: an
//! `X-Api-Key` from `http_headers` went along, and a 307 or 308 replays the
//! request body (a JSON-RPC message, or a form with a token) too. Here a
//! redirect is followed only when it stays on the origin (scheme, host and
//! port) of the URL first asked for and keeps the method and body (307,
//! 308), at most [`MAX_REDIRECTS`] times; anything else fails the request
//! with a [`RedirectRefused`] that says why.

use reqwest::StatusCode;
use reqwest::redirect::{Attempt, Policy};
use url::Url;

/// Same-origin redirects followed for one request.
pub(crate) const MAX_REDIRECTS: usize = 5;

/// A redirect that was not followed, found in a request's error sources.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RedirectRefused {
    #[error(
        "the server answered HTTP {status} with a redirect from {from} to {to}, another origin; \
         wharf does not follow cross-origin redirects for MCP, so that headers and tokens \
         stay with the configured server"
    )]
    CrossOrigin {
        status: u16,
        from: String,
        to: String,
    },
    #[error(
        "the server answered HTTP {status} with a redirect to {to}, which would resend the \
         request without its body; wharf follows only 307 and 308 redirects for MCP"
    )]
    ChangesMethod { status: u16, to: String },
    #[error("the server redirected more than {MAX_REDIRECTS} times (last to {to})")]
    TooMany { to: String },
}

/// The policy of every HTTP client the crate builds for MCP requests.
pub(crate) fn policy() -> Policy {
    Policy::custom(|attempt| match check(&attempt) {
        Ok(()) => attempt.follow(),
        Err(refused) => attempt.error(refused),
    })
}

fn check(attempt: &Attempt<'_>) -> Result<(), RedirectRefused> {
    decide(attempt.status(), attempt.previous(), attempt.url())
}

/// Whether a redirect with `status` from the requests `previous` (the first
/// one is the URL asked for) to `next` may be followed.
fn decide(status: StatusCode, previous: &[Url], next: &Url) -> Result<(), RedirectRefused> {
    let Some(first) = previous.first() else {
        return Ok(());
    };
    if first.origin() != next.origin() {
        return Err(RedirectRefused::CrossOrigin {
            status: status.as_u16(),
            from: origin(first),
            to: origin(next),
        });
    }
    if !matches!(
        status,
        StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
    ) {
        return Err(RedirectRefused::ChangesMethod {
            status: status.as_u16(),
            to: without_query(next),
        });
    }
    if previous.len() > MAX_REDIRECTS {
        return Err(RedirectRefused::TooMany {
            to: without_query(next),
        });
    }
    Ok(())
}

/// `http://127.0.0.1:8080`; a URL without a host shows as itself, less
/// its query.
fn origin(url: &Url) -> String {
    let origin = url.origin();
    if origin.is_tuple() {
        origin.ascii_serialization()
    } else {
        without_query(url)
    }
}

/// The URL without its query and fragment, which may carry credentials.
fn without_query(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    let _ = url.set_password(None);
    let _ = url.set_username("");
    url.to_string()
}

/// The refused redirect among `err`'s sources (reqwest keeps the policy's
/// error as the source of its own).
pub(crate) fn find(err: &(dyn std::error::Error + 'static)) -> Option<RedirectRefused> {
    let mut current = Some(err);
    while let Some(error) = current {
        if let Some(refused) = error.downcast_ref::<RedirectRefused>() {
            return Some(refused.clone());
        }
        current = crate::error::next_source(error);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap_or_else(|err| panic!("{text}: {err}"))
    }

    #[test]
    fn only_same_origin_307_and_308_are_followed() {
        let start = [url("http://127.0.0.1:8000/mcp")];
        let cases: &[(u16, &str, Option<&str>)] = &[
            (307, "http://127.0.0.1:8000/v2/mcp", None),
            (308, "http://127.0.0.1:8000/v2/mcp", None),
            (
                307,
                "http://127.0.0.1:9000/mcp",
                Some("another origin: 307 http://127.0.0.1:8000 -> http://127.0.0.1:9000"),
            ),
            (
                308,
                "https://127.0.0.1:8000/mcp",
                Some("another origin: 308 http://127.0.0.1:8000 -> https://127.0.0.1:8000"),
            ),
            (
                301,
                "http://localhost:8000/mcp",
                Some("another origin: 301 http://127.0.0.1:8000 -> http://localhost:8000"),
            ),
            (
                302,
                "http://127.0.0.1:8000/v2?key=secret",
                Some("changes method: 302 -> http://127.0.0.1:8000/v2"),
            ),
        ];
        for (status, next, expected) in cases {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::IM_A_TEAPOT);
            let outcome = decide(status, &start, &url(next))
                .err()
                .map(|refused| match refused {
                    RedirectRefused::CrossOrigin { status, from, to } => {
                        format!("another origin: {status} {from} -> {to}")
                    }
                    RedirectRefused::ChangesMethod { status, to } => {
                        format!("changes method: {status} -> {to}")
                    }
                    RedirectRefused::TooMany { to } => format!("too many -> {to}"),
                });
            assert_eq!(outcome.as_deref(), *expected, "{status} to {next}");
        }
    }

    #[test]
    fn redirects_are_counted() {
        let hops = vec![url("http://127.0.0.1:8000/mcp"); MAX_REDIRECTS + 1];
        let next = url("http://127.0.0.1:8000/mcp");
        assert_eq!(
            decide(StatusCode::TEMPORARY_REDIRECT, &hops, &next),
            Err(RedirectRefused::TooMany {
                to: "http://127.0.0.1:8000/mcp".to_owned()
            })
        );
        assert_eq!(
            decide(StatusCode::TEMPORARY_REDIRECT, &hops[1..], &next),
            Ok(())
        );
    }
}
