using System;
using System.Globalization;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace WgTroubleshoot.Native
{
    /// <summary>
    /// Builds values for nft scripts so that no value can end a token: every value is validated for what it
    /// is (an interface name, an identifier, an address prefix) and quoted where nft quotes it. A value that
    /// does not fit is an error (WgInvalidArgument / WgInvalidInterfaceName), never pasted.
    /// </summary>
    public static class NftText
    {
        private static readonly Regex IdentifierPattern = new Regex("^[A-Za-z][A-Za-z0-9_]{0,63}$", RegexOptions.CultureInvariant);

        /// <summary>An interface name as an nft quoted string ("eth0"), after <see cref="InterfaceName.Validate"/>.</summary>
        public static string InterfaceString(string name)
        {
            InterfaceName.Validate(name);
            // Validate refuses quotes, backslashes, whitespace and control characters: nothing can end the string.
            return "\"" + name + "\"";
        }

        /// <summary>A table or chain name: a letter, then letters, digits and underscores (at most 64).</summary>
        public static string Identifier(string name)
        {
            if (name == null || !IdentifierPattern.IsMatch(name))
                throw new WgException(ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument,
                    $"'{InterfaceName.Show(name)}' is not an nft identifier (a letter, then letters, digits and _).", name);
            return name;
        }

        /// <summary>An address or prefix (192.0.2.0/24, 2001:db8::/32) written canonically; anything else is an error.</summary>
        public static string Prefix(string value)
        {
            var text = value ?? "";
            int slash = text.IndexOf('/');
            var addrText = slash < 0 ? text : text.Substring(0, slash);
            int? bits = null;
            if (slash >= 0)
            {
                var b = text.Substring(slash + 1);
                if (b.Length == 0 || b.Length > 3 || !int.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) bits = -1;
                else bits = n;
            }
            if (addrText.Length == 0 || addrText.IndexOf('%') >= 0 || !IPAddress.TryParse(addrText, out var addr)
                || (addr.AddressFamily == AddressFamily.InterNetwork && addrText.Split('.').Length != 4))
                throw Bad(value);
            int max = addr.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            if (bits.HasValue && (bits.Value < 0 || bits.Value > max)) throw Bad(value);
            return addr.ToString() + (bits.HasValue ? "/" + bits.Value.ToString(CultureInfo.InvariantCulture) : "");
        }

        private static WgException Bad(string value)
            => new WgException(ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument,
                $"'{InterfaceName.Show(value)}' is not an IP address or prefix.", value);
    }
}
