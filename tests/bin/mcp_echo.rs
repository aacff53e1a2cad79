//! `wharf-test-mcp-echo [--delay-ms N]`: an MCP server with one `echo`
//! tool on stdin/stdout, which waits N ms before it answers anything (a
//! slow server's start, without the CPU a real one would burn).

use std::time::Duration;

use rmcp::ServiceExt as _;
use wharf_tests::oauth_server::EchoServer;

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let mut delay = Duration::ZERO;
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next().map(|value| value.parse::<u64>())) {
            ("--delay-ms", Some(Ok(ms))) => delay = Duration::from_millis(ms),
            _ => {
                eprintln!("usage: wharf-test-mcp-echo [--delay-ms N]");
                return std::process::ExitCode::from(2);
            }
        }
    }
    std::thread::sleep(delay);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cannot start a runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let served: Result<(), Box<dyn std::error::Error>> = runtime.block_on(async {
        let service = EchoServer::new().serve(rmcp::transport::stdio()).await?;
        service.waiting().await?;
        Ok(())
    });
    match served {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("wharf-test-mcp-echo: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
