using System;
using System.IO;
using System.Runtime.InteropServices;

namespace WgTroubleshoot.Native
{
    /// <summary>Whether this process has the privilege that captures and kernel logs need.</summary>
    public static class Privilege
    {
        [DllImport("libc", EntryPoint = "geteuid")]
        private static extern uint GetEffectiveUserId();

        /// <summary>For tests: overrides the answer of <see cref="IsRoot"/>.</summary>
        internal static Func<bool> IsRootOverride { get; set; }

        public static bool IsLinux => RuntimeInformation.IsOSPlatform(OSPlatform.Linux);

        /// <summary>True when the effective user is root (Unix). Always false on Windows.</summary>
        public static bool IsRoot()
        {
            if (IsRootOverride != null) return IsRootOverride();
            if (Path.DirectorySeparatorChar == '\\') return false;
            try
            {
                return GetEffectiveUserId() == 0;
            }
            catch (Exception ex) when (ex is DllNotFoundException || ex is EntryPointNotFoundException)
            {
                return Environment.UserName == "root";
            }
        }
    }
}
