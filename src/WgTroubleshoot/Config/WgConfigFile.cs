using System;
using System.IO;
using System.Management.Automation;

namespace WgTroubleshoot.Config
{
    /// <summary>
    /// Reading and safely rewriting configuration files. A write takes an exclusive lock
    /// (flock on <c>&lt;path&gt;.lock</c>, never through a symbolic link), writes a temporary file created 0600
    /// in the same directory, flushes it to disk, keeps the previous file as <c>&lt;path&gt;.bak</c> (0600) and renames
    /// the temporary file over the original, so readers see the old or the new file and never a mix. A
    /// failed write leaves the original untouched and no temporary file behind.
    /// </summary>
    internal static class WgConfigFile
    {
        /// <summary>How long a writer waits for another writer's lock before giving up.</summary>
        internal static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromSeconds(10);

        /// <summary>Suffix of the lock file next to the configuration file.</summary>
        internal const string LockSuffix = ".lock";

        /// <summary>Suffix of the backup of the previous version.</summary>
        internal const string BackupSuffix = ".bak";

        /// <summary>Reads a file into a document. Missing: WgConfigNotFound; unreadable: WgPermissionDenied.</summary>
        internal static WgConfigDocument ReadDocument(string path) => WgConfigDocument.Parse(ReadBytes(path), path);

        /// <summary>
        /// Read-modify-write under the lock: reads the current file, applies <paramref name="edit"/> to its
        /// document and writes the result when the bytes changed. When the file parsed before the edit but
        /// not after it, nothing is written and the parse error is thrown. Returns true when the file changed.
        /// </summary>
        internal static bool Edit(string path, Action<WgConfigDocument> edit, TimeSpan? lockTimeout = null)
        {
            if (edit == null) throw new ArgumentNullException(nameof(edit));
            using (AcquireLock(path, lockTimeout ?? DefaultLockTimeout))
            {
                var before = ReadBytes(path);
                var doc = WgConfigDocument.Parse(before, path);
                edit(doc);
                var after = doc.ToBytes();
                if (WgConfigDocument.BytesEqual(before, after)) return false;
                if (Parses(before, path)) WgConfigParser.Parse(after, path); // throws WgConfigParseException
                WriteLocked(path, after);
                return true;
            }
        }

        /// <summary>Replaces (or creates) the file with <paramref name="content"/> under the lock.</summary>
        internal static void Write(string path, byte[] content, TimeSpan? lockTimeout = null)
        {
            using (AcquireLock(path, lockTimeout ?? DefaultLockTimeout))
                WriteLocked(path, content);
        }

        /// <summary>The writer lock of <paramref name="path"/>, for a change that must not race other writers (a rollback).</summary>
        internal static IDisposable Lock(string path, TimeSpan? lockTimeout = null) => AcquireLock(path, lockTimeout ?? DefaultLockTimeout);

        /// <summary>
        /// Under the lock: writes <paramref name="content"/> only when the file still holds <paramref name="expected"/>
        /// (returns false and leaves it alone otherwise). The .bak is not rotated, so it keeps the version it had.
        /// </summary>
        internal static bool RestoreIfUnchanged(string path, byte[] expected, byte[] content, TimeSpan? lockTimeout = null)
        {
            using (AcquireLock(path, lockTimeout ?? DefaultLockTimeout))
            {
                byte[] now;
                try { now = File.Exists(path) ? File.ReadAllBytes(path) : null; }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { now = null; }
                if (now == null || !WgConfigDocument.BytesEqual(now, expected)) return false;
                WriteLocked(path, content, rotateBackup: false);
                return true;
            }
        }

        private static bool Parses(byte[] bytes, string path)
        {
            try { WgConfigParser.Parse(bytes, path); return true; }
            catch (WgConfigParseException) { return false; }
        }

        private static byte[] ReadBytes(string path)
        {
            if (Directory.Exists(path))
                throw new WgException(ErrorIds.ConfigNotFound, ErrorCategory.ObjectNotFound,
                    $"'{path}' is a directory, not a configuration file.", path);
            try
            {
                return File.ReadAllBytes(path);
            }
            catch (Exception ex) when (ex is FileNotFoundException || ex is DirectoryNotFoundException)
            {
                throw new WgException(ErrorIds.ConfigNotFound, ErrorCategory.ObjectNotFound,
                    $"The configuration file '{path}' does not exist.", path, ex);
            }
            catch (Exception ex) when (ex is UnauthorizedAccessException || ex is System.Security.SecurityException)
            {
                throw new WgException(ErrorIds.PermissionDenied, ErrorCategory.PermissionDenied,
                    $"The configuration file '{path}' cannot be read: permission denied. WireGuard files are readable by root only (mode 0600); run elevated.", path, ex);
            }
            catch (IOException ex)
            {
                throw new WgException(ErrorIds.ConfigNotFound, ErrorCategory.ObjectNotFound,
                    $"The configuration file '{path}' cannot be read: {ex.Message}", path, ex);
            }
        }

        /// <summary>
        /// The exclusive writer lock (see <see cref="FileLock"/>): flock on <c>&lt;path&gt;.lock</c>, opened
        /// without following a symbolic link. A read-only file system, a link in place of the lock file or a
        /// permission problem is an error at once; only another writer's lock is waited for.
        /// </summary>
        private static IDisposable AcquireLock(string path, TimeSpan timeout)
        {
            var lockPath = path + LockSuffix;
            IDisposable held;
            try
            {
                held = FileLock.TryAcquire(lockPath, timeout);
            }
            catch (ReadOnlyFileSystemException ex)
            {
                throw new WgException(ErrorIds.ConfigWriteFailed, ErrorCategory.WriteError,
                    $"Cannot change '{path}': its file system is mounted read-only (the lock '{lockPath}' cannot be created or opened for writing).", path, ex);
            }
            catch (UnsafePathException ex)
            {
                throw new WgException(ErrorIds.UnsafePath, ErrorCategory.SecurityError,
                    $"Cannot lock '{path}' for writing: {ex.Message}", path, ex);
            }
            catch (UnauthorizedAccessException ex)
            {
                throw new WgException(ErrorIds.PermissionDenied, ErrorCategory.PermissionDenied,
                    $"Cannot lock '{path}' for writing: permission denied. Run elevated.", path, ex);
            }
            catch (DirectoryNotFoundException ex)
            {
                throw new WgException(ErrorIds.ConfigNotFound, ErrorCategory.ObjectNotFound,
                    $"The directory of '{path}' does not exist.", path, ex);
            }
            catch (IOException ex)
            {
                throw new WgException(ErrorIds.ConfigWriteFailed, ErrorCategory.WriteError,
                    $"Cannot lock '{path}' for writing: {ex.Message}", path, ex);
            }
            if (held == null)
                throw new WgException(ErrorIds.FileBusy, ErrorCategory.ResourceBusy,
                    $"'{path}' is being changed by another writer (its lock '{lockPath}' was busy for {timeout.TotalSeconds:0.#} seconds).", path);
            return held;
        }

        /// <summary>
        /// The write itself; the caller holds the lock. Through <see cref="Changes.AtomicFile"/>: a 0600
        /// temporary file created with its mode, the previous version as .bak (0600), a symbolic link written
        /// through to its target with a warning, stale temporary files of dead writers removed.
        /// </summary>
        private static void WriteLocked(string path, byte[] content, bool rotateBackup = true)
        {
            var full = Path.GetFullPath(path);
            try
            {
                Changes.AtomicFile.WriteBytes(full, content, UnixFile.OwnerReadWrite, keepBackup: rotateBackup, holdsLock: true);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is System.Security.SecurityException || ex is NotSupportedException)
            {
                bool denied = ex is UnauthorizedAccessException || ex is System.Security.SecurityException;
                var message = $"Writing '{full}' failed{(denied ? " (permission denied; run elevated)" : "")}: {ex.Message} The original file is unchanged.";
                if (denied) throw new WgException(ErrorIds.PermissionDenied, ErrorCategory.PermissionDenied, message, full, ex);
                if (ex is UnsafePathException) throw new WgException(ErrorIds.UnsafePath, ErrorCategory.SecurityError, message, full, ex);
                throw new WgException(ErrorIds.ConfigWriteFailed, ErrorCategory.WriteError, message, full, ex);
            }
        }
    }
}
