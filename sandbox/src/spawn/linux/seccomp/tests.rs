//! The filter's program, run by a small interpreter over every call number
//! and the arguments each rule looks at: what the kernel will decide,
//! without installing it.

use super::{ALWAYS_DENIED, NATIVE_ARCH, RET_ALLOW, RET_DENY, RET_KILL, program};

/// `struct seccomp_data` as the filter reads it: number, architecture,
/// instruction pointer, six arguments.
fn data(arch: u32, nr: u32, args: [u64; 6]) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend(nr.to_ne_bytes());
    bytes.extend(arch.to_ne_bytes());
    bytes.extend(0u64.to_ne_bytes());
    for arg in args {
        bytes.extend(arg.to_ne_bytes());
    }
    bytes
}

/// Runs the classic BPF instructions the builder emits.
fn run(program: &[libc::sock_filter], data: &[u8]) -> u32 {
    let mut a: u32 = 0;
    let mut pc = 0;
    loop {
        let op = program[pc];
        let code = u32::from(op.code);
        pc += 1;
        match code {
            c if c == libc::BPF_LD | libc::BPF_W | libc::BPF_ABS => {
                let at = op.k as usize;
                a = u32::from_ne_bytes(data[at..at + 4].try_into().unwrap());
            }
            c if c == libc::BPF_ALU | libc::BPF_AND | libc::BPF_K => a &= op.k,
            c if c == libc::BPF_JMP | libc::BPF_JA => pc += op.k as usize,
            c if c == libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K => {
                pc += usize::from(if a == op.k { op.jt } else { op.jf });
            }
            c if c == libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K => {
                pc += usize::from(if a >= op.k { op.jt } else { op.jf });
            }
            c if c == libc::BPF_RET | libc::BPF_K => return op.k,
            other => panic!("unexpected instruction {other:#x}"),
        }
    }
}

fn nr(call: i64) -> u32 {
    u32::try_from(call).unwrap()
}

#[test]
fn the_program_decides_every_call_as_the_rules_say() {
    for network in [false, true] {
        let program = program(network);
        let decide = |call: u32, args: [u64; 6]| run(&program, &data(NATIVE_ARCH, call, args));
        let conditional = [
            libc::SYS_mknodat,
            libc::SYS_ioctl,
            libc::SYS_socket,
            #[cfg(target_arch = "x86_64")]
            libc::SYS_mknod,
        ];
        for call in 0..1024 {
            if conditional.contains(&i64::from(call)) {
                continue;
            }
            let expected = if ALWAYS_DENIED.contains(&i64::from(call)) {
                RET_DENY
            } else {
                RET_ALLOW
            };
            assert_eq!(decide(call, [0; 6]), expected, "call {call}");
        }
        let device = |kind: u32| u64::from(0o600 | kind);
        let cases = [
            (
                nr(libc::SYS_mknodat),
                [0, 0, device(libc::S_IFCHR), 0, 0, 0],
                RET_DENY,
            ),
            (
                nr(libc::SYS_mknodat),
                [0, 0, device(libc::S_IFBLK), 0, 0, 0],
                RET_DENY,
            ),
            (
                nr(libc::SYS_mknodat),
                [0, 0, device(libc::S_IFIFO), 0, 0, 0],
                RET_ALLOW,
            ),
            (
                nr(libc::SYS_mknodat),
                [0, 0, device(libc::S_IFREG), 0, 0, 0],
                RET_ALLOW,
            ),
            // Only the low 32 bits of a request count, as in the kernel.
            (
                nr(libc::SYS_ioctl),
                [
                    0,
                    0x1_0000_0000 | u64::from(libc::TIOCSTI as u32),
                    0,
                    0,
                    0,
                    0,
                ],
                RET_DENY,
            ),
            (
                nr(libc::SYS_ioctl),
                [0, u64::from(libc::TIOCLINUX as u32), 0, 0, 0, 0],
                RET_DENY,
            ),
            (
                nr(libc::SYS_ioctl),
                [0, u64::from(libc::TIOCGWINSZ as u32), 0, 0, 0, 0],
                RET_ALLOW,
            ),
            (
                nr(libc::SYS_socket),
                [libc::AF_UNIX as u64, 0, 0, 0, 0, 0],
                RET_ALLOW,
            ),
            (
                nr(libc::SYS_socket),
                [libc::AF_INET as u64, 0, 0, 0, 0, 0],
                if network { RET_ALLOW } else { RET_DENY },
            ),
            (
                nr(libc::SYS_socket),
                [libc::AF_NETLINK as u64, 0, 0, 0, 0, 0],
                if network { RET_ALLOW } else { RET_DENY },
            ),
        ];
        for (call, args, expected) in cases {
            assert_eq!(
                decide(call, args),
                expected,
                "call {call} {args:?}, network {network}"
            );
        }
        #[cfg(target_arch = "x86_64")]
        {
            assert_eq!(
                decide(nr(libc::SYS_mknod), [0, device(libc::S_IFCHR), 0, 0, 0, 0]),
                RET_DENY
            );
            assert_eq!(
                decide(nr(libc::SYS_mknod), [0, device(libc::S_IFIFO), 0, 0, 0, 0]),
                RET_ALLOW
            );
            // x32 numbers of allowed and denied calls alike.
            assert_eq!(decide(0x4000_0000 | nr(libc::SYS_getpid), [0; 6]), RET_DENY);
        }
        // Another architecture's calls end the process.
        assert_eq!(run(&program, &data(0x4000_0003, 20, [0; 6])), RET_KILL);
        // A binary search: short, far below the kernel's 4096.
        assert!(program.len() < 200, "{} instructions", program.len());
    }
}
