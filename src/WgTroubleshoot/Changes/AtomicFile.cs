using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.RegularExpressions;
using WgTroubleshoot.Config;

namespace WgTroubleshoot.Changes
{
    /// <summary>
    /// The one way the module writes a whole file (configuration files, sysctl.d files, reports, the state
    /// file, support bundles):
    /// <list type="bullet">
    /// <item>a temporary file <c>.&lt;name&gt;.&lt;random&gt;.tmp</c> in the target's directory, created with
    /// open(O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC) and its final mode, so it never exists with a wider mode and
    /// never is a symbolic link someone placed there;</item>
    /// <item>written, fsync'ed, then renamed over the target (readers see the old or the new file);</item>
    /// <item>optionally the previous version kept as <c>.bak</c>, itself written the same way and renamed into
    /// place, so a symbolic link at <c>.bak</c> is replaced, never written through;</item>
    /// <item>a target that is a symbolic link is written through deliberately: the link is resolved and the
    /// file it points to is replaced the same way (next to it), with a warning; a link owned by another user
    /// (not root) is refused;</item>
    /// <item>a world-writable directory without the sticky bit (or a group-writable one not owned by root) is warned about;</item>
    /// <item>temporary files a killed writer left behind for the same target are removed first (only regular
    /// files of this naming pattern owned by this user; all of them when the caller holds the target's lock,
    /// otherwise the ones older than <see cref="StaleAge"/>).</item>
    /// </list>
    /// A failure leaves the target as it was and no temporary file behind. On Windows the framework's file
    /// calls do what they can (no modes, no link checks).
    /// </summary>
    public static class AtomicFile
    {
        /// <summary>0644: world-readable system files such as sysctl.d entries.</summary>
        public const int Public = 420;
        /// <summary>0600: anything that may hold sensitive data.</summary>
        public const int Private = 384;

        /// <summary>Temporary files of a writer that does not hold a lock are left alone until they are this old.</summary>
        internal static readonly TimeSpan StaleAge = TimeSpan.FromMinutes(10);

        /// <summary>For tests: called with the temporary file's path right after it was created, before a byte is written.</summary>
        internal static Action<string> TempCreated { get; set; }

        /// <summary>
        /// Where warnings about links and directories go on this thread (the cmdlets point it at WriteWarning);
        /// when unset they are lost.
        /// </summary>
        [ThreadStatic] private static Action<string> _warningSink;

        internal static Action<string> WarningSink { get => _warningSink; set => _warningSink = value; }

        internal static void Warn(string message, Action<string> warn)
        {
            var sink = warn ?? _warningSink;
            if (sink == null) return;
            try { sink(message); }
            catch (Exception ex) when (ex is InvalidOperationException || ex is System.Management.Automation.PSInvalidOperationException) { /* a pipeline that has ended */ }
        }

        public static void Write(string path, string text, int unixMode = Public, bool keepBackup = true)
            => WriteBytes(path, new UTF8Encoding(false).GetBytes(text ?? ""), unixMode, keepBackup, holdsLock: false);

        /// <summary>
        /// Writes <paramref name="content"/> to <paramref name="path"/> as described on the class. Returns the
        /// path of the file actually replaced (the link's target when <paramref name="path"/> is a link).
        /// <paramref name="holdsLock"/>: the caller holds the target's writer lock, so any temporary file of
        /// this target is a dead writer's.
        /// </summary>
        internal static string WriteBytes(string path, byte[] content, int unixMode, bool keepBackup, bool holdsLock, Action<string> warn = null)
        {
            var full = Path.GetFullPath(path);
            var st = UnixFile.LStat(full);
            if (st != null && st.IsSymlink)
            {
                if (st.Uid != 0 && st.Uid != UnixFile.EffectiveUid)
                    throw new UnsafePathException($"'{full}' is a symbolic link owned by another user (uid {st.Uid}); it is not followed.");
                var real = UnixFile.ResolveLinks(full);
                Warn($"'{full}' is a symbolic link to '{real}': the file it points to is replaced (atomically, next to it), not the link.", warn);
                full = real;
                st = UnixFile.LStat(full);
            }
            if (st != null && st.IsDirectory) throw new IOException($"'{full}' is a directory.");
            if (st != null && !st.IsRegular && !st.IsSymlink) throw new UnsafePathException($"'{full}' is not a regular file; it is not replaced.");

            var dir = Path.GetDirectoryName(full);
            var name = Path.GetFileName(full);
            if (!string.IsNullOrEmpty(dir) && !Directory.Exists(dir)) Directory.CreateDirectory(dir);
            CheckDirectory(dir, warn);
            RemoveStaleTemps(dir, name, holdsLock, warn);

            if (keepBackup && st != null && st.IsRegular)
            {
                var backup = full + ".bak";
                var bst = UnixFile.LStat(backup);
                if (bst != null && bst.IsDirectory) throw new UnsafePathException($"The backup '{backup}' is a directory; nothing was written.");
                if (bst != null && bst.IsSymlink)
                    Warn($"The backup '{backup}' was a symbolic link; it is replaced by a regular file (the file it pointed to is not written).", warn);
                WriteNew(backup, File.ReadAllBytes(full), unixMode);
            }
            WriteNew(full, content, unixMode);
            return full;
        }

        /// <summary>A new temporary file with the final mode, filled, fsync'ed and renamed over <paramref name="target"/>.</summary>
        private static void WriteNew(string target, byte[] content, int unixMode)
        {
            var dir = Path.GetDirectoryName(target) ?? ".";
            var tmp = Path.Combine(dir, "." + Path.GetFileName(target) + "." + Guid.NewGuid().ToString("N").Substring(0, 12) + ".tmp");
            bool created = false;
            try
            {
                using (var fs = UnixFile.CreateNew(tmp, unixMode))
                {
                    created = true;
                    TempCreated?.Invoke(tmp);
                    fs.Write(content, 0, content.Length);
                    UnixFile.Fsync(fs);
                }
                UnixFile.Rename(tmp, target);
                created = false;
                UnixFile.FsyncDirectory(dir);
            }
            finally
            {
                if (created)
                {
                    try { UnixFile.Unlink(tmp); }
                    catch (IOException) { }
                    catch (UnauthorizedAccessException) { }
                }
            }
        }

        /// <summary>The temporary-file names this writer uses for <paramref name="name"/> (.name.hex.tmp).</summary>
        internal static Regex TempPattern(string name)
            => new Regex("^\\." + Regex.Escape(name) + "\\.[0-9a-f]{8,32}\\.tmp$", RegexOptions.CultureInvariant);

        /// <summary>
        /// Removes temporary files a killed writer left for this target: regular files (not links) of the
        /// module's naming pattern owned by this user; younger ones only when the caller holds the lock.
        /// </summary>
        internal static int RemoveStaleTemps(string dir, string name, bool holdsLock, Action<string> warn = null)
        {
            if (string.IsNullOrEmpty(dir) || !Directory.Exists(dir)) return 0;
            var pattern = TempPattern(name);
            int removed = 0;
            IEnumerable<string> candidates;
            try { candidates = Directory.EnumerateFiles(dir, "." + name + ".*.tmp"); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { return 0; }
            var me = UnixFile.EffectiveUid;
            foreach (var f in candidates)
            {
                if (!pattern.IsMatch(Path.GetFileName(f))) continue;
                var st = UnixFile.LStat(f);
                if (st == null || !st.IsRegular || st.Uid != me) continue;
                try
                {
                    if (!holdsLock && DateTime.UtcNow - File.GetLastWriteTimeUtc(f) < StaleAge) continue;
                    if (UnixFile.Unlink(f))
                    {
                        removed++;
                        Warn($"Removed '{f}', a temporary file an interrupted write left behind.", warn);
                    }
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { }
            }
            return removed;
        }

        /// <summary>Warns about a directory anybody (or a group, when not owned by root) can write: the files in it cannot be trusted.</summary>
        internal static void CheckDirectory(string dir, Action<string> warn)
        {
            if (string.IsNullOrEmpty(dir)) return;
            var ds = UnixFile.LStat(dir);
            if (ds == null || !ds.IsDirectory) return;
            if ((ds.Mode & 0x2) != 0 && (ds.Mode & 0x200) == 0)
                Warn($"The directory '{dir}' is writable by everyone (mode {Convert.ToString(ds.Mode, 8)}): anyone can replace the files in it. Run chmod o-w '{dir}'.", warn);
            else if ((ds.Mode & 0x10) != 0 && ds.Uid != 0)
                Warn($"The directory '{dir}' is group-writable and not owned by root (mode {Convert.ToString(ds.Mode, 8)}, uid {ds.Uid}): members of its group can replace the files in it.", warn);
        }
    }
}
