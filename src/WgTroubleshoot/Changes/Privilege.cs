using System;
using System.Globalization;
using System.IO;
using System.Management.Automation;

namespace WgTroubleshoot.Changes
{
    /// <summary>Checks, before any change, that this process may change network settings and system files.</summary>
    public static class Privilege
    {
        private const int CapNetAdmin = 12;

        /// <summary>
        /// On Linux: effective UID 0 and CAP_NET_ADMIN in the effective set (read from /proc/self/status, so a
        /// root shell whose capabilities were dropped is refused too). Elsewhere: true (the tools themselves refuse).
        /// </summary>
        public static bool IsPrivileged(out string reason)
        {
            reason = null;
            const string status = "/proc/self/status";
            if (!File.Exists(status)) return true;
            string uid = null, capEff = null;
            foreach (var line in File.ReadAllLines(status))
            {
                if (line.StartsWith("Uid:", StringComparison.Ordinal)) uid = line.Substring(4).Trim();
                else if (line.StartsWith("CapEff:", StringComparison.Ordinal)) capEff = line.Substring(7).Trim();
            }
            var euid = uid?.Split(new[] { '\t', ' ' }, StringSplitOptions.RemoveEmptyEntries);
            if (euid == null || euid.Length < 2 || euid[1] != "0")
            {
                reason = "this process does not run as root (effective UID " + (euid != null && euid.Length > 1 ? euid[1] : "?") + ")";
                return false;
            }
            if (capEff != null && ulong.TryParse(capEff, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var caps)
                && (caps & (1UL << CapNetAdmin)) == 0)
            {
                reason = "this process runs as root but without CAP_NET_ADMIN";
                return false;
            }
            return true;
        }

        /// <summary>Throws WgPermissionDenied unless <see cref="IsPrivileged"/>.</summary>
        public static void Require(string what)
        {
            if (!IsPrivileged(out var reason))
                throw new WgException(ErrorIds.PermissionDenied, ErrorCategory.PermissionDenied,
                    $"{what} needs root with CAP_NET_ADMIN: {reason}. Nothing was changed.", what);
        }
    }
}
