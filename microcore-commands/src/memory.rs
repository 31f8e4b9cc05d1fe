//! The process's memory, as `serve` hands it over to the running app.
//!
//! Boot runs a lot of code and allocates a lot once (migrations, the
//! OpenAPI document, AI_CONTEXT.md, lints, every tool's set-up); serving
//! needs a fraction of it. Like an OS kernel freeing its `__init`
//! sections, the boot ends by giving back what only boot used, so the
//! idle footprint is what the app itself holds (docs/benchmarks.md has
//! the numbers). Everything here is Linux + glibc only and a no-op
//! elsewhere; it is the workspace's one audited `unsafe`, kept in the binary's command
//! line because only a serving process (not a test booting many apps) should
//! tune the allocator of the whole process.
#![allow(unsafe_code)]

/// Called before the boot: big buffers get a mapping of their own.
///
/// glibc serves an allocation above its mmap threshold with a fresh
/// mapping, but after the first such buffer is freed it raises the
/// threshold to that size, so the next one comes from an arena and stays
/// resident after `free`. An Argon2 password hash (19 MiB of work memory,
/// on whichever blocking thread and arena it runs) would then pin 19 MiB
/// per arena for the life of the process. A fixed threshold keeps every
/// buffer of a MiB or more out of the arenas: unmapped when freed.
pub(crate) fn keep_big_buffers_unpooled() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes glibc's allocation policy for later
    // calls; glibc serialises it against concurrent allocations.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// Called once the boot is over: returns what only boot used.
///
/// - **Heap**: glibc keeps freed pages that are not at the top of a heap
///   resident; `malloc_trim` returns them.
/// - **Code and read-only data**: the pages of the binary and its libraries
///   that boot ran or read (clap, the migrations, sea-orm's schema builder,
///   every tool's set-up, the relocation tables, and each one's 64 KiB
///   fault-around neighbours) stay mapped, so resident, and the reclaimer
///   shields mapped code. Dropping those mappings' pages leaves them in the
///   page cache, first in line for reclaim; the pages serving requests come
///   back on first use as minor faults (no disk read).
///
/// Only mappings that hold nothing of their own are dropped: file-backed,
/// private, not writable and with no anonymous (copied-on-write) page, so
/// every byte in them is still the file's and comes back as it was.
/// Relocated data (RELRO), the heap, stacks and writable data are left
/// alone.
pub(crate) fn release_boot_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim only returns free memory to the OS; glibc
        // makes it thread-safe, and it touches nothing the program can reach.
        unsafe {
            libc::malloc_trim(0);
        }
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap_or_default();
        for (start, len) in file_pages(&smaps) {
            // SAFETY: [start, start + len) is a whole mapping the kernel
            // listed as private, read-only, file-backed and without any
            // anonymous page: its contents are exactly the file's, so
            // MADV_DONTNEED loses nothing and the next access faults the
            // same bytes back in. No one writes a read-only mapping, so
            // that still holds when the call runs, and threads running
            // meanwhile only take a minor fault.
            unsafe {
                libc::madvise(start as *mut libc::c_void, len, libc::MADV_DONTNEED);
            }
        }
    }
}

/// `(start, length)` of each mapping in a `/proc/<pid>/smaps` listing whose
/// resident pages are all unmodified pages of a file: a path, private, not
/// writable, some `Rss` and no `Anonymous` page.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn file_pages(smaps: &str) -> Vec<(usize, usize)> {
    struct Mapping<'a> {
        range: (usize, usize),
        perms: &'a str,
        path: &'a str,
        rss_kib: Option<u64>,
        anonymous_kib: Option<u64>,
    }
    impl Mapping<'_> {
        fn clean_file_pages(&self) -> Option<(usize, usize)> {
            let read_only_private = self.perms.len() == 4
                && self.perms.as_bytes()[1] == b'-'
                && self.perms.ends_with('p');
            let file = self.path.starts_with('/') && !self.path.ends_with(" (deleted)");
            (read_only_private && file && self.rss_kib? > 0 && self.anonymous_kib? == 0)
                .then_some((self.range.0, self.range.1 - self.range.0))
        }
    }

    let mut found = Vec::new();
    let mut current: Option<Mapping> = None;
    for line in smaps.lines() {
        if let Some(header) = mapping_header(line) {
            found.extend(current.take().and_then(|m| m.clean_file_pages()));
            current = Some(header);
            continue;
        }
        let (Some(mapping), Some((key, value))) = (current.as_mut(), line.split_once(':')) else {
            continue;
        };
        let kib = || value.trim().strip_suffix(" kB")?.parse().ok();
        match key {
            "Rss" => mapping.rss_kib = kib(),
            "Anonymous" => mapping.anonymous_kib = kib(),
            _ => {}
        }
    }
    found.extend(current.and_then(|m| m.clean_file_pages()));
    return found;

    /// "start-end perms offset dev inode    path" (the path may hold spaces).
    fn mapping_header(line: &str) -> Option<Mapping<'_>> {
        let mut fields = line.splitn(6, ' ');
        let (start, end) = fields.next()?.split_once('-')?;
        let range = (
            usize::from_str_radix(start, 16).ok()?,
            usize::from_str_radix(end, 16).ok()?,
        );
        let perms = fields.next()?;
        let path = fields.nth(3).unwrap_or("").trim_start();
        (range.1 > range.0).then_some(Mapping {
            range,
            perms,
            path,
            rss_kib: None,
            anonymous_kib: None,
        })
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    #[test]
    fn only_unmodified_read_only_file_pages_are_picked() {
        let smaps = "\
55d0a0000000-55d0a0100000 r--p 00000000 fd:01 42                         /srv/my app/bin
Rss:                 800 kB
Anonymous:             0 kB
55d0a0100000-55d0a0900000 r-xp 00100000 fd:01 42                         /srv/my app/bin
Size:               8192 kB
Rss:                5000 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me
55d0a0900000-55d0a0a00000 r--p 00900000 fd:01 42                         /srv/my app/bin
Rss:                 448 kB
Anonymous:           448 kB
55d0a0a00000-55d0a0a10000 rw-p 00a00000 fd:01 42                         /srv/my app/bin
Rss:                  64 kB
Anonymous:            12 kB
55d0a0b00000-55d0a0c00000 rw-p 00000000 00:00 0                          [heap]
Rss:                1024 kB
Anonymous:          1024 kB
7f0000000000-7f0000100000 r-xp 00028000 fd:01 77                         /usr/lib/x86_64-linux-gnu/libc.so.6
Rss:                1100 kB
Anonymous:             0 kB
7f0000100000-7f0000110000 ---p 00128000 fd:01 77                         /usr/lib/x86_64-linux-gnu/libc.so.6
Rss:                   0 kB
Anonymous:             0 kB
7f0000200000-7f0000300000 r-xp 00000000 00:00 0                          [vdso]
Rss:                   8 kB
Anonymous:             0 kB
7f0000300000-7f0000400000 r--s 00000000 fd:01 43                         /srv/data.db
Rss:                  64 kB
Anonymous:             0 kB
7f0000400000-7f0000500000 r-xp 00000000 fd:01 44                         /srv/old.so (deleted)
Rss:                  64 kB
Anonymous:             0 kB
7f0000500000-7f0000600000 r-xp 00000000 fd:01 45                         /srv/no-counts.so
";
        assert_eq!(
            file_pages(smaps),
            vec![
                (0x55d0a0000000, 0x100000),
                (0x55d0a0100000, 0x800000),
                (0x7f0000000000, 0x100000),
            ]
        );
    }

    fn resident_file_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("RssFile:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    #[test]
    fn releasing_drops_resident_file_pages_and_the_program_runs_on() {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        assert!(!file_pages(&smaps).is_empty());
        let before = resident_file_kib();
        release_boot_memory();
        // This very function's pages were dropped too: reading the status
        // again faults back only what that takes.
        let after = resident_file_kib();
        assert!(
            after < before,
            "RssFile {before} KiB before, {after} KiB after"
        );
    }
}
