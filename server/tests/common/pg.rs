//! A PostgreSQL owned by one test: `initdb` into a temporary directory, `postgres` on a free
//! loopback port (as `nobody` when the tests run as root, which PostgreSQL refuses), stopped by
//! its PID when dropped. A missing PostgreSQL fails the test with what to install.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestPostgres {
    bindir: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
    /// A connection string to the server's `postgres` database.
    pub admin: String,
}

fn bindir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists() && p.join("postgres").exists())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!("PostgreSQL is not installed (Debian: apt-get install -y postgresql)")
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The command, run as `nobody` when we are root.
fn as_owner(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl TestPostgres {
    /// Starts a fresh server. Blocking (run it before or outside async code, or in
    /// `spawn_blocking`).
    pub fn start() -> TestPostgres {
        let bindir = bindir();
        let dir = tempfile::Builder::new()
            .prefix("chinwag-pg-")
            .tempdir()
            .expect("temp dir");
        if is_root() {
            let ok = Command::new("chown")
                .arg("nobody")
                .arg(dir.path())
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "chown nobody {}", dir.path().display());
        }
        let out = as_owner(&bindir.join("initdb"))
            .arg("-D")
            .arg(dir.path().join("data"))
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
            ])
            .output()
            .expect("initdb runs");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let mut pg = TestPostgres {
            admin: format!("host=127.0.0.1 port={port} user=postgres dbname=postgres"),
            bindir,
            dir,
            port,
            child: None,
        };
        pg.run();
        pg
    }

    fn run(&mut self) {
        let child = as_owner(&self.bindir.join("postgres"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .arg("-k")
            .arg(self.dir.path())
            .args(["-p", &self.port.to_string()])
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "max_connections=200",
            ])
            // The tests kill and restart processes, never the machine: no fsync needed.
            .args(["-c", "fsync=off", "-c", "full_page_writes=off"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("postgres starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = Command::new(self.bindir.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if ready {
                return;
            }
            assert!(Instant::now() < deadline, "postgres did not start in 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A fresh, empty database; returns its connection string.
    pub fn database(&self, name: &str) -> String {
        chinwag_server::create_postgres_database(&self.admin, name).expect("database created")
    }

    /// A fresh, empty database; returns its `postgres://` URL (the form `--store` takes).
    pub fn database_url(&self, name: &str) -> String {
        self.database(name);
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Stops the server (fast shutdown: clients are disconnected) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }

    /// Stops the server and starts it again on the same port and data.
    pub fn restart(&mut self) {
        self.stop();
        self.run();
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}
