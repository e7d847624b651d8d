using System;
using System.Management.Automation;
using System.Runtime.InteropServices;

namespace WgTroubleshoot.Changes
{
    /// <summary>The privilege check every changing cmdlet makes before it changes anything.</summary>
    public static class Privilege
    {
        [DllImport("libc", EntryPoint = "geteuid")]
        private static extern uint GetEuid();

        /// <summary>True on Linux, where captures, kernel logs and netfilter are read the way this module reads them.</summary>
        public static bool IsLinux => RuntimeInformation.IsOSPlatform(OSPlatform.Linux);

        /// <summary>For tests: replaces the real check.</summary>
        internal static Func<bool> Override { get; set; }

        /// <summary>
        /// True when running as root (effective uid 0) on Unix. On Windows the check is left to the tools
        /// themselves (their "Access is denied" becomes PermissionDenied).
        /// </summary>
        public static bool IsElevated()
        {
            if (Override != null) return Override();
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) return true;
            try
            {
                return GetEuid() == 0 && HasNetAdmin();
            }
            catch (Exception ex) when (ex is DllNotFoundException || ex is EntryPointNotFoundException)
            {
                return true; // cannot tell: let the tools answer
            }
        }

        /// <summary>
        /// CAP_NET_ADMIN in the effective set (/proc/self/status): a root process whose capabilities were
        /// dropped (a container, setpriv, systemd's CapabilityBoundingSet) cannot change the network either.
        /// True when it cannot be told.
        /// </summary>
        internal static bool HasNetAdmin()
        {
            const string status = "/proc/self/status";
            try
            {
                if (!System.IO.File.Exists(status)) return true;
                foreach (var line in System.IO.File.ReadAllLines(status))
                {
                    if (!line.StartsWith("CapEff:", StringComparison.Ordinal)) continue;
                    if (ulong.TryParse(line.Substring(7).Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var caps))
                        return (caps & (1UL << 12)) != 0;
                }
            }
            catch (System.IO.IOException) { }
            return true;
        }

        /// <summary>Throws WgPermissionDenied unless elevated. <paramref name="what"/> names the change ("Adding a firewall rule").</summary>
        public static void Demand(string what)
        {
            if (!IsElevated())
                throw new WgException(ErrorIds.PermissionDenied, ErrorCategory.PermissionDenied,
                    $"{what} needs root (with CAP_NET_ADMIN). Nothing was changed. Run PowerShell as root (for example: sudo pwsh).", what);
        }
    }
}
