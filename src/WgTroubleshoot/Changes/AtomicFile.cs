using System;
using System.IO;
using System.Text;

namespace WgTroubleshoot.Changes
{
    /// <summary>Writes a small system file atomically: temporary file in the same directory, flush, mode, rename; the previous version kept as .bak.</summary>
    public static class AtomicFile
    {
        public static void Write(string path, string text, int unixMode = 420 /* 0644 */)
        {
            var dir = Path.GetDirectoryName(path);
            if (!string.IsNullOrEmpty(dir) && !Directory.Exists(dir)) Directory.CreateDirectory(dir);
            if (File.Exists(path)) File.Copy(path, path + ".bak", true);
            var tmp = Path.Combine(dir ?? ".", "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp");
            try
            {
                using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
                {
                    var bytes = new UTF8Encoding(false).GetBytes(text);
                    fs.Write(bytes, 0, bytes.Length);
                    fs.Flush(true);
                }
                Config.UnixFile.SetMode(tmp, unixMode);
                if (File.Exists(path)) File.Replace(tmp, path, null);
                else File.Move(tmp, path);
            }
            finally
            {
                if (File.Exists(tmp)) File.Delete(tmp);
            }
        }
    }
}
