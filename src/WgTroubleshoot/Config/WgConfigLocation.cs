using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text.RegularExpressions;

namespace WgTroubleshoot.Config
{
    /// <summary>Where configuration files live and how interface names map to them (wg-quick's rules).</summary>
    internal static class WgConfigLocation
    {
        private static readonly Regex InterfaceName = new Regex("^[a-zA-Z0-9_=+.-]{1,15}$", RegexOptions.CultureInvariant);
        private static string _directoryOverride;

        /// <summary>/etc/wireguard; on Windows %ProgramFiles%\WireGuard\Data\Configurations.</summary>
        internal static string DefaultDirectory => UnixFile.IsWindows
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ProgramFiles), "WireGuard", "Data", "Configurations")
            : "/etc/wireguard";

        /// <summary>The configuration directory; tests set it to a directory of their own (null restores the default).</summary>
        internal static string ConfigDirectory
        {
            get => _directoryOverride ?? DefaultDirectory;
            set => _directoryOverride = value;
        }

        /// <summary>True for a name wg-quick accepts as an interface name.</summary>
        internal static bool IsValidInterfaceName(string name) => name != null && InterfaceName.IsMatch(name);

        /// <summary>The file for an interface name (wg0 → /etc/wireguard/wg0.conf); WgInvalidInterfaceName for a bad name.</summary>
        internal static string PathForInterface(string name)
        {
            if (!IsValidInterfaceName(name))
                throw new WgException(ErrorIds.InvalidInterfaceName, ErrorCategory.InvalidArgument,
                    $"'{name}' is not a valid interface name: 1 to 15 characters from a-z, A-Z, 0-9 and _=+.- (use -Path for a file).", name);
            var path = Path.Combine(ConfigDirectory, name + ".conf");
            if (UnixFile.IsWindows && !File.Exists(path) && File.Exists(path + ".dpapi"))
                throw new WgException(ErrorIds.ConfigNotFound, ErrorCategory.ObjectNotFound,
                    $"The configuration of '{name}' is stored encrypted by WireGuard for Windows ('{path}.dpapi') and cannot be read; export it from the WireGuard app to a .conf file and use -Path.", path);
            return path;
        }

        /// <summary>The file an interface's configuration would be in, or null for a name wg-quick would not accept.</summary>
        internal static string PathForConfigOrNull(string name)
            => IsValidInterfaceName(name) ? Path.Combine(ConfigDirectory, name + ".conf") : null;

        /// <summary>
        /// Every *.conf file in the configuration directory, sorted by name. Encrypted *.conf.dpapi files of
        /// WireGuard for Windows are skipped with a warning. A missing directory yields nothing.
        /// </summary>
        internal static IEnumerable<string> EnumerateConfigFiles(Action<string> warn)
        {
            var dir = ConfigDirectory;
            if (!Directory.Exists(dir)) return Enumerable.Empty<string>();
            string[] files;
            try
            {
                files = Directory.GetFiles(dir);
            }
            catch (Exception ex) when (ex is UnauthorizedAccessException || ex is System.Security.SecurityException)
            {
                throw new WgException(ErrorIds.PermissionDenied, ErrorCategory.PermissionDenied,
                    $"The configuration directory '{dir}' cannot be listed: permission denied. Run elevated.", dir, ex);
            }
            foreach (var f in files.Where(f => f.EndsWith(".conf.dpapi", StringComparison.OrdinalIgnoreCase)))
                warn?.Invoke($"Skipping '{f}': WireGuard for Windows stores it encrypted (DPAPI) and it cannot be read.");
            return files.Where(f => f.EndsWith(".conf", StringComparison.Ordinal)).OrderBy(f => f, StringComparer.Ordinal).ToArray();
        }
    }
}
