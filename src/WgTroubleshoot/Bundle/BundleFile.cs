using System;
using System.IO;
using System.Management.Automation;
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
            try
            {
                Changes.AtomicFile.Write(full, text, UnixFile.OwnerReadWrite, keepBackup: false);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException)
            {
                throw new WgException(ex is UnauthorizedAccessException ? ErrorIds.PermissionDenied : ErrorIds.FileWriteFailed, ex is UnauthorizedAccessException ? ErrorCategory.PermissionDenied : ErrorCategory.WriteError,
                    $"The support bundle '{path}' could not be written: {ex.Message}", path, ex);
            }
        }

        internal static WgException Exists(string path)
            => new WgException(ErrorIds.FileExists, ErrorCategory.ResourceExists,
                $"'{path}' already exists; use -Force to overwrite it.", path);
    }
}
