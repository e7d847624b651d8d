using System;
using System.IO;
using System.Text;

namespace WgTroubleshoot.Changes
{
    /// <summary>
    /// The one way the module writes a whole file (sysctl.d files, reports, state, support bundles; configuration
    /// files go through the lossless WgConfigFile): a temporary file in the same directory, given its mode before
    /// anything is written to it, flushed to disk, then renamed over the target. Optionally the previous version
    /// is kept as .bak. A failure leaves the target as it was and no temporary file behind.
    /// </summary>
    public static class AtomicFile
    {
        /// <summary>0644: world-readable system files such as sysctl.d entries.</summary>
        public const int Public = 420;
        /// <summary>0600: anything that may hold sensitive data.</summary>
        public const int Private = 384;

        public static void Write(string path, string text, int unixMode = Public, bool keepBackup = true)
        {
            var full = Path.GetFullPath(path);
            var dir = Path.GetDirectoryName(full);
            if (!string.IsNullOrEmpty(dir) && !Directory.Exists(dir)) Directory.CreateDirectory(dir);
            if (keepBackup && File.Exists(full))
            {
                File.Copy(full, full + ".bak", true);
                Config.UnixFile.SetMode(full + ".bak", unixMode);
            }
            var tmp = Path.Combine(dir ?? ".", "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp");
            try
            {
                using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
                {
                    Config.UnixFile.SetMode(tmp, unixMode);
                    var bytes = new UTF8Encoding(false).GetBytes(text);
                    fs.Write(bytes, 0, bytes.Length);
                    fs.Flush(true);
                }
                if (File.Exists(full)) File.Replace(tmp, full, null);
                else File.Move(tmp, full);
            }
            finally
            {
                try { if (File.Exists(tmp)) File.Delete(tmp); }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
        }
    }
}
