//! The content-addressed blob store: `blobs/sha256/<hex>` in an OCI image layout.
//! A blob becomes visible only once complete, fsynced and verified (written to a
//! scratch file, renamed into place). Reads of whole documents are verified; layer
//! streams are verified when they reach their end.

use super::digest::{Digest, HashingReader};
use super::error::{ImageError, IoContext, Result};
use crate::fsutil::{self, ScratchGuard};
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct BlobStore {
    dir: PathBuf,
    scratch: PathBuf,
}

impl BlobStore {
    /// `dir` is `<layout>/blobs/sha256`; `scratch` must be on the same filesystem.
    pub fn open(dir: PathBuf, scratch: PathBuf) -> Result<Self> {
        fs::create_dir_all(&dir).ctx(|| format!("create {}", dir.display()))?;
        fsutil::remove_temporaries(&dir);
        Ok(Self { dir, scratch })
    }

    /// `blobs/sha256` itself.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, d: &Digest) -> PathBuf {
        self.dir.join(d.hex())
    }

    pub fn has(&self, d: &Digest) -> bool {
        self.path(d).is_file()
    }

    pub fn size(&self, d: &Digest) -> Result<u64> {
        let p = self.path(d);
        Ok(fs::metadata(&p)
            .map_err(|e| self.missing_or_io(d, &p, e))?
            .len())
    }

    /// Stores a small document and returns its digest.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<Digest> {
        let d = Digest::of(bytes);
        if !self.has(&d) {
            fsutil::write_atomic(&self.path(&d), bytes).ctx(|| format!("write blob {d}"))?;
        }
        Ok(d)
    }

    /// Copies a stream into the store. With `expected`, a stream whose content
    /// does not match is refused and nothing becomes visible.
    pub fn put_reader(
        &self,
        r: impl Read,
        expected: Option<&Digest>,
        what: &str,
    ) -> Result<(Digest, u64)> {
        let guard = ScratchGuard::new(fsutil::unique_path(&self.scratch, "blob"));
        let mut f =
            File::create(guard.path()).ctx(|| format!("create {}", guard.path().display()))?;
        let mut hr = HashingReader::new(r);
        io::copy(&mut hr, &mut f)
            .map_err(|e| ImageError::InvalidArchive(format!("reading {what}: {e}")))?;
        let (d, n) = hr.finish();
        if let Some(exp) = expected {
            if exp != &d {
                return Err(ImageError::DigestMismatch {
                    what: what.into(),
                    expected: exp.clone(),
                    actual: d,
                });
            }
        }
        f.sync_all().ctx(|| format!("fsync blob {d}"))?;
        drop(f);
        self.commit_scratch(guard, &d)?;
        Ok((d, n))
    }

    /// Moves a complete scratch file into place as blob `d` (the caller verified it).
    pub fn commit_scratch(&self, guard: ScratchGuard, d: &Digest) -> Result<()> {
        let dst = self.path(d);
        if dst.exists() {
            return Ok(()); // same content already there; the guard drops the copy
        }
        fs::rename(guard.path(), &dst).ctx(|| format!("move blob {d} into place"))?;
        guard.keep();
        fsutil::sync_dir(&self.dir).ctx(|| format!("fsync {}", self.dir.display()))
    }

    /// Reads a whole blob and checks its digest.
    pub fn read_verified(&self, d: &Digest) -> Result<Vec<u8>> {
        let p = self.path(d);
        let bytes = fs::read(&p).map_err(|e| self.missing_or_io(d, &p, e))?;
        let actual = Digest::of(&bytes);
        if &actual != d {
            return Err(ImageError::DigestMismatch {
                what: format!("blob {}", p.display()),
                expected: d.clone(),
                actual,
            });
        }
        Ok(bytes)
    }

    /// Reads and parses a JSON document blob.
    pub fn read_json<T: serde::de::DeserializeOwned>(&self, d: &Digest, what: &str) -> Result<T> {
        let bytes = self.read_verified(d)?;
        serde_json::from_slice(&bytes).map_err(|source| ImageError::Json {
            what: format!("{what} {d}"),
            source,
        })
    }

    /// Opens a blob for streaming; the reader fails at its end if the content does not match.
    pub fn open_verified(&self, d: &Digest) -> Result<VerifyingReader<File>> {
        let p = self.path(d);
        let f = File::open(&p).map_err(|e| self.missing_or_io(d, &p, e))?;
        Ok(VerifyingReader {
            inner: HashingReader::new(f),
            expected: d.clone(),
            done: false,
        })
    }

    pub fn remove(&self, d: &Digest) {
        fsutil::remove_any(&self.path(d));
    }

    fn missing_or_io(&self, d: &Digest, p: &Path, e: io::Error) -> ImageError {
        if e.kind() == io::ErrorKind::NotFound {
            ImageError::InvalidArchive(format!("blob {d} is missing from the store"))
        } else {
            ImageError::io_path("read", p, e)
        }
    }
}

/// A blob reader that returns an error instead of EOF when the bytes read do not
/// hash to the expected digest.
pub struct VerifyingReader<R> {
    inner: HashingReader<R>,
    expected: Digest,
    done: bool,
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.done = true;
            let actual = self.inner.digest_so_far();
            if actual != self.expected {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "blob {} is corrupt (content hashes to {actual})",
                        self.expected
                    ),
                ));
            }
        }
        Ok(n)
    }
}

impl<R> std::fmt::Debug for VerifyingReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VerifyingReader({})", self.expected)
    }
}
