using System;
using System.Management.Automation;
using System.Text;

namespace WgTroubleshoot.Native
{
    /// <summary>
    /// Validation of network interface names before they reach a command, a file or another tool's script:
    /// the kernel's rules (dev_valid_name: 1 to 15 bytes, not "." or "..", no '/', ':' or whitespace) and,
    /// for safety in nft scripts and wg-quick hook lines, no quote, backslash, control character or any of
    /// # ; { } $ ` (no real interface needs them). Names outside printable ASCII are refused too.
    /// </summary>
    public static class InterfaceName
    {
        /// <summary>IFNAMSIZ - 1.</summary>
        public const int MaxBytes = 15;

        private const string Forbidden = "/:\"'`\\#;{}$";

        /// <summary>Null when the name is acceptable, otherwise why not (in words).</summary>
        public static string Problem(string name)
        {
            if (string.IsNullOrEmpty(name)) return "it is empty";
            if (name == "." || name == "..") return "'.' and '..' are not interface names";
            if (Encoding.UTF8.GetByteCount(name) > MaxBytes) return $"it is longer than {MaxBytes} bytes";
            foreach (var c in name)
            {
                if (c < 0x21 || c == 0x7f) return "it holds whitespace or a control character";
                if (c > 0x7e) return "it holds a character outside printable ASCII";
                if (Forbidden.IndexOf(c) >= 0) return $"it holds '{c}'";
            }
            return null;
        }

        /// <summary>True when <see cref="Problem"/> finds nothing.</summary>
        public static bool IsValid(string name) => Problem(name) == null;

        /// <summary>Throws WgInvalidInterfaceName (InvalidArgument) for a name the kernel (or this module) refuses; returns it otherwise.</summary>
        public static string Validate(string name, string what = "interface name")
        {
            var problem = Problem(name);
            if (problem != null)
                throw new WgException(ErrorIds.InvalidInterfaceName, ErrorCategory.InvalidArgument,
                    $"The {what} '{Show(name)}' is not a valid interface name: {problem} (1 to {MaxBytes} bytes; no '/', ':', whitespace, quotes or any of # ; {{ }} $ ` \\).", name);
            return name;
        }

        /// <summary>
        /// Validates the name and requires a link of that name in this network namespace
        /// (WgInterfaceNotFound, ObjectNotFound, when there is none).
        /// </summary>
        public static string RequireLive(string name, string what = "interface")
        {
            Validate(name, what);
            if (!State.IpInfo.LinkExists(name))
                throw new WgException(ErrorIds.InterfaceNotFound, ErrorCategory.ObjectNotFound, $"The {what} '{name}' does not exist here.", name);
            return name;
        }

        /// <summary>The name with control characters shown as \xNN, cut at 40 characters, for messages.</summary>
        internal static string Show(string name)
        {
            if (name == null) return "";
            var sb = new StringBuilder();
            foreach (var c in name.Length > 40 ? name.Substring(0, 40) : name)
                if (c < 0x20 || c == 0x7f) sb.Append("\\x").Append(((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
                else sb.Append(c);
            if (name.Length > 40) sb.Append("...");
            return sb.ToString();
        }
    }
}
