use super::*;

#[test]
fn urls_compare_with_scheme_host_default_port_and_trailing_slash_normalized() {
    let same = [
        (
            "https://mcp.example.com/tracker",
            "https://mcp.example.com/tracker",
        ),
        (
            " HTTPS://MCP.Example.COM/tracker ",
            "https://mcp.example.com/tracker",
        ),
        (
            "https://mcp.example.com:443/tracker/",
            "https://mcp.example.com/tracker",
        ),
        ("http://mcp.example.com:80", "http://mcp.example.com"),
        ("http://mcp.example.com/", "http://mcp.example.com"),
        (
            "https://mcp.example.com/?q=1",
            "https://mcp.example.com?q=1",
        ),
        ("https://[::1]:443/x", "https://[::1]/x"),
        ("https://[::1]:8443/x", "https://[::1]:8443/x"),
    ];
    for (url, normalized) in same {
        assert_eq!(normalize_url(url), normalized, "{url}");
    }
    // Each pair names different endpoints, or might: never equal.
    let different = [
        (
            "https://mcp.example.com/tracker",
            "http://mcp.example.com/tracker",
        ),
        (
            "https://mcp.example.com/tracker",
            "https://mcp.example.com:8443/tracker",
        ),
        (
            "https://mcp.example.com/tracker",
            "https://mcp.example.com:80/tracker",
        ),
        (
            "https://mcp.example.com/tracker",
            "https://mcp.example.com/Tracker",
        ),
        (
            "https://mcp.example.com/tracker",
            "https://mcp.example.com/tracker//",
        ),
        (
            "https://mcp.example.com/tracker",
            "https://mcp.example.com@evil.test/tracker",
        ),
        (
            "https://mcp.example.com/tracker",
            "https://evil.test\\@mcp.example.com/tracker",
        ),
        (
            "https://mcp.example.com/tracker",
            "https://mcp.example.com./tracker",
        ),
        (
            "https://mcp.example.com/tracker",
            "https://mcp.exa\tmple.com/tracker",
        ),
        (
            "https://mcp.example.com/tracker",
            "https://mcp.example.com/tracker?x=/",
        ),
        ("https://[::1]/x", "https://[::1]evil/x"),
        ("https://mcp.example.com", "https://mcp.example.com:"),
    ];
    for (a, b) in different {
        assert_ne!(normalize_url(a), normalize_url(b), "{a} vs {b}");
    }
}
