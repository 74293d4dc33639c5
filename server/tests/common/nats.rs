//! A NATS server owned by one test: `nats-server` on a free loopback port, stopped by its PID
//! when dropped (and on demand, to take the bus away mid-test). A missing nats-server fails the
//! test with what to install.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestNats {
    port: u16,
    child: Option<Child>,
}

fn program() -> String {
    ["/usr/sbin/nats-server", "/usr/bin/nats-server"]
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
        .unwrap_or_else(|| {
            panic!("nats-server is not installed (Debian: apt-get install -y nats-server)")
        })
}

impl TestNats {
    /// Starts a server on a free loopback port. Blocking.
    pub fn start() -> TestNats {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let mut nats = TestNats { port, child: None };
        nats.run();
        nats
    }

    /// `nats://127.0.0.1:PORT`, the value of `--bus`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn run(&mut self) {
        let child = Command::new(program())
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server did not start in 30 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server (every client loses its connection) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.run();
    }
}

impl Drop for TestNats {
    fn drop(&mut self) {
        self.stop();
    }
}
