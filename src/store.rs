//! The saved session (docs/behaviour.md, section 2): user, token and resume position.
//! The file store writes atomically (temp file, fsync, rename) with mode 0600 and moves a
//! corrupt file aside; apps may supply their own store (keychain) through [`SessionStore`].

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chinwag_protocol::model::User;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode, Result};

/// What survives a restart of the app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedSession {
    pub app_id: String,
    pub user: User,
    pub token: String,
    /// The last durable event sequence delivered to the app; sent on every connect.
    #[serde(default)]
    pub last_seq: Option<u64>,
}

/// Where sessions are kept. Called from the SDK's own threads (never its network runtime, never
/// the dispatcher), never concurrently for one client; a call may block. The SDK holds no lock
/// of the client meanwhile, so a store may call its client's read-only methods
/// (`logged_in_user`, `connection_state`, `active_call`).
pub trait SessionStore: Send + Sync {
    /// The saved session, `Ok(None)` when there is none. An `Err` is reported and treated as
    /// logged out.
    fn load(&self) -> Result<Option<SavedSession>>;
    /// Saves the session. `durable` is set when the user or token changed (login); position
    /// updates pass `false` and may skip the fsync.
    fn save(&self, session: &SavedSession, durable: bool) -> Result<()>;
    /// Forgets the session (logout).
    fn clear(&self) -> Result<()>;
}

/// Keeps the session in memory only (no data directory).
#[derive(Default)]
pub struct MemoryStore {
    session: Mutex<Option<SavedSession>>,
}

impl SessionStore for MemoryStore {
    fn load(&self) -> Result<Option<SavedSession>> {
        Ok(self
            .session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone())
    }

    fn save(&self, session: &SavedSession, _durable: bool) -> Result<()> {
        *self.session.lock().unwrap_or_else(|p| p.into_inner()) = Some(session.clone());
        Ok(())
    }

    fn clear(&self) -> Result<()> {
        *self.session.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(())
    }
}

/// `session.json` in the data directory.
pub struct FileStore {
    path: PathBuf,
}

fn storage(what: &str, path: &Path, e: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::Storage,
        format!("{what} {}: {e}", path.display()),
    )
}

impl FileStore {
    pub const FILE_NAME: &'static str = "chinwag-session.json";

    /// A store in `dir`, created (mode 0700) if missing.
    pub fn new(dir: &Path) -> Result<FileStore> {
        fs::create_dir_all(dir).map_err(|e| storage("cannot create data directory", dir, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
        }
        Ok(FileStore {
            path: dir.join(Self::FILE_NAME),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Moves an unreadable file aside so the next start is clean, and says where it went.
    fn quarantine(&self, why: String) -> Error {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let aside = self.path.with_extension(format!("corrupt-{stamp}"));
        match fs::rename(&self.path, &aside) {
            Ok(()) => Error::new(
                ErrorCode::Storage,
                format!(
                    "saved session unreadable ({why}); moved aside to {}",
                    aside.display()
                ),
            ),
            Err(e) => Error::new(
                ErrorCode::Storage,
                format!("saved session unreadable ({why}) and could not be moved aside: {e}"),
            ),
        }
    }
}

impl SessionStore for FileStore {
    fn load(&self) -> Result<Option<SavedSession>> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.quarantine(e.to_string())),
        };
        match serde_json::from_slice::<SavedSession>(&bytes) {
            Ok(s) => Ok(Some(s)),
            Err(e) => Err(self.quarantine(e.to_string())),
        }
    }

    fn save(&self, session: &SavedSession, durable: bool) -> Result<()> {
        let json = serde_json::to_vec_pretty(session)
            .map_err(|e| storage("cannot encode session for", &self.path, e))?;
        let tmp = self.path.with_extension("tmp");
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(&tmp)
            .map_err(|e| storage("cannot write", &tmp, e))?;
        file.write_all(&json)
            .map_err(|e| storage("cannot write", &tmp, e))?;
        if durable {
            file.sync_all()
                .map_err(|e| storage("cannot sync", &tmp, e))?;
        }
        drop(file);
        fs::rename(&tmp, &self.path).map_err(|e| storage("cannot replace", &self.path, e))?;
        if durable {
            if let Some(dir) = self.path.parent() {
                if let Ok(d) = fs::File::open(dir) {
                    let _ = d.sync_all();
                }
            }
        }
        Ok(())
    }

    fn clear(&self) -> Result<()> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(storage("cannot remove", &self.path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chinwag_protocol::model::UserStatus;

    fn session() -> SavedSession {
        SavedSession {
            app_id: "app".into(),
            user: User {
                uid: "alice".into(),
                name: "Alice".into(),
                avatar: None,
                role: "default".into(),
                metadata: serde_json::json!({}),
                status: UserStatus::Online,
                last_active_at: None,
                deactivated: false,
                blocked_by_me: false,
            },
            token: "t".into(),
            last_seq: Some(4),
        }
    }

    #[test]
    fn file_store_round_trip_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path()).unwrap();
        assert_eq!(store.load().unwrap(), None);
        store.save(&session(), true).unwrap();
        assert_eq!(store.load().unwrap(), Some(session()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(store.path()).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        store.clear().unwrap();
        assert_eq!(store.load().unwrap(), None);
        store.clear().unwrap();
    }

    #[test]
    fn corrupt_file_is_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path()).unwrap();
        fs::write(store.path(), b"{not json").unwrap();
        let err = store.load().unwrap_err();
        assert_eq!(err.code, ErrorCode::Storage);
        assert!(err.message.contains("moved aside"), "{}", err.message);
        assert_eq!(store.load().unwrap(), None, "the next start is clean");
        let aside = fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().contains("corrupt"));
        assert!(aside);
    }
}
