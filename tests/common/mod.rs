//! A real `nats-server -js` for the tests that need one (Debian package `nats-server`;
//! `scripts/test` installs it).

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
};

/// A JetStream-enabled NATS server on a free loopback port, with its own storage directory;
/// killed when dropped.
pub struct NatsServer {
    child: Child,
    pub url: String,
    _storage: tempfile::TempDir,
}

impl NatsServer {
    pub fn start() -> NatsServer {
        let binary = std::env::var("NATS_SERVER").unwrap_or_else(|_| "nats-server".to_string());
        let storage = tempfile::tempdir().unwrap();
        let mut child = Command::new(&binary)
            .args(["-js", "-a", "127.0.0.1", "-p", "-1", "-sd"])
            .arg(storage.path())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {binary} ({e}): install the Debian package nats-server or set NATS_SERVER")
            });
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let address = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| {
                line.split("Listening for client connections on ")
                    .nth(1)
                    .map(|a| a.trim().to_string())
            })
            .expect("nats-server reports its client address");
        std::thread::spawn(move || lines.for_each(drop));
        NatsServer {
            child,
            url: format!("nats://{address}"),
            _storage: storage,
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
