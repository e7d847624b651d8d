using System;
using System.Runtime.InteropServices;

namespace WgTroubleshoot.Config
{
    /// <summary>chmod(2) through libc, for the 0600 mode WireGuard configuration files need (no-op on Windows).</summary>
    internal static class UnixFile
    {
        internal const int OwnerReadWrite = 0x180; // 0600

        internal static bool IsWindows => RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

        [DllImport("libc", EntryPoint = "chmod", SetLastError = true)]
        private static extern int ChmodLibc(string path, uint mode);

        [DllImport("libc.so.6", EntryPoint = "chmod", SetLastError = true)]
        private static extern int ChmodGlibc(string path, uint mode);

        /// <summary>Sets the file mode; throws UnauthorizedAccessException or IOException with errno when it fails.</summary>
        internal static void SetMode(string path, int mode)
        {
            if (IsWindows) return;
            int rc;
            try
            {
                rc = ChmodLibc(path, (uint)mode);
            }
            catch (Exception ex) when (ex is DllNotFoundException || ex is EntryPointNotFoundException)
            {
                rc = ChmodGlibc(path, (uint)mode);
            }
            if (rc != 0)
            {
                int errno = Marshal.GetLastWin32Error();
                var message = $"chmod {Convert.ToString(mode, 8)} '{path}' failed (errno {errno}).";
                if (errno == 1 || errno == 13) throw new UnauthorizedAccessException(message);
                throw new System.IO.IOException(message);
            }
        }
    }
}
