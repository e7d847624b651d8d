using System;
using System.IO;
using System.Management.Automation;
using System.Text;
using WgTroubleshoot.Config;

namespace WgTroubleshoot.Bundle
{
    /// <summary>
    /// Writes a file that may hold sensitive data: a temporary file in the same directory, made 0600 before
    /// anything is written to it, flushed, then renamed over the target. An existing target is refused
    /// (WgFileExists) unless <c>overwrite</c> is set.
    /// </summary>
    internal static class BundleFile
    {
        internal static void Write(string path, string text, bool overwrite)
        {
            var full = Path.GetFullPath(path);
            if (!overwrite && File.Exists(full)) throw Exists(path);
            if (Directory.Exists(full))
                throw new WgException(ErrorIds.FileWriteFailed, ErrorCategory.WriteError, $"'{path}' is a directory; give a file name.", path);
            var dir = Path.GetDirectoryName(full);
            var tmp = Path.Combine(dir, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp");
            try
            {
                using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
                {
                    UnixFile.SetMode(tmp, UnixFile.OwnerReadWrite);
                    var bytes = new UTF8Encoding(false).GetBytes(text);
                    fs.Write(bytes, 0, bytes.Length);
                    fs.Flush(true);
                }
                if (File.Exists(full))
                {
                    if (!overwrite) throw Exists(path);
                    File.Replace(tmp, full, null);
                }
                else
                {
                    File.Move(tmp, full);
                }
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException)
            {
                throw new WgException(ErrorIds.FileWriteFailed, ex is UnauthorizedAccessException ? ErrorCategory.PermissionDenied : ErrorCategory.WriteError,
                    $"The support bundle '{path}' could not be written: {ex.Message}", path, ex);
            }
            finally
            {
                try { if (File.Exists(tmp)) File.Delete(tmp); }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
        }

        internal static WgException Exists(string path)
            => new WgException(ErrorIds.FileExists, ErrorCategory.ResourceExists,
                $"'{path}' already exists; use -Force to overwrite it.", path);
    }
}
