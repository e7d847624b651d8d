using System;
using System.Globalization;
using System.Net;

namespace WgTroubleshoot.Config
{
    /// <summary>
    /// An IPv4 or IPv6 prefix as WireGuard's allowed-IPs trie holds it: the address as written (host bits
    /// may be set; wg masks them off) and the prefix length.
    /// </summary>
    internal sealed class IpPrefix
    {
        private readonly byte[] _bytes;

        private IpPrefix(byte[] bytes, int length)
        {
            _bytes = bytes;
            Length = length;
        }

        /// <summary>The prefix length (0-32 or 0-128).</summary>
        internal int Length { get; }

        /// <summary>True for IPv6.</summary>
        internal bool IsV6 => _bytes.Length == 16;

        /// <summary>The longest prefix of this family (32 or 128).</summary>
        internal int MaxLength => _bytes.Length * 8;

        /// <summary>A single address (/32 or /128).</summary>
        internal bool IsHost => Length == MaxLength;

        /// <summary>Bits set after the prefix length (192.0.2.5/24): wg accepts them with a warning and masks them off.</summary>
        internal bool HasHostBits
        {
            get
            {
                var net = Masked();
                for (int i = 0; i < _bytes.Length; i++) if (net[i] != _bytes[i]) return true;
                return false;
            }
        }

        /// <summary>"ip/len" or "ip" (then /32 or /128), as the parser normalizes them; null when invalid.</summary>
        internal static IpPrefix Parse(string cidr)
        {
            var normalized = cidr == null ? null : WgConfigParser.ParseCidr(cidr);
            if (normalized == null) return null;
            int slash = normalized.IndexOf('/');
            var ip = IPAddress.Parse(normalized.Substring(0, slash));
            return new IpPrefix(ip.GetAddressBytes(), int.Parse(normalized.Substring(slash + 1), CultureInfo.InvariantCulture));
        }

        /// <summary>True when <paramref name="prefix"/> (a/len or a bare address) contains the whole <paramref name="subnet"/>; false when either is not a prefix.</summary>
        internal static bool Covers(string prefix, string subnet)
        {
            var p = Parse(prefix?.Trim());
            return p != null && p.Contains(Parse(subnet?.Trim()));
        }

        /// <summary>"192.0.2.1/26" → "192.0.2.0/26"; null when not a prefix.</summary>
        internal static string NetworkOf(string cidr) => Parse(cidr?.Trim())?.Network().ToString();

        /// <summary>A prefix from an address and a length (no checks beyond the family's maximum).</summary>
        internal static IpPrefix FromAddress(IPAddress ip, int length) => new IpPrefix(ip.GetAddressBytes(), length);

        /// <summary>The address as written (host bits kept).</summary>
        internal IPAddress Address => new IPAddress(_bytes);

        /// <summary>True when <paramref name="address"/> is inside this prefix.</summary>
        internal bool Contains(IPAddress address)
            => address != null && Contains(FromAddress(address, address.GetAddressBytes().Length * 8));

        /// <summary>The network address plus one (192.0.2.5/24 → 192.0.2.1); null for a /31, /32, /127 or /128 (no room for it).</summary>
        internal IPAddress FirstHost()
        {
            if (Length >= MaxLength - 1) return null;
            var b = Masked();
            b[b.Length - 1] |= 1;
            return new IPAddress(b);
        }

        /// <summary>The address bytes as written (host bits kept).</summary>
        internal byte[] AddressBytes => (byte[])_bytes.Clone();

        /// <summary>Bit <paramref name="bit"/> (0 = most significant) of the address.</summary>
        internal int BitAt(int bit) => Bit(_bytes, bit);

        /// <summary>The same address as a host prefix (10.0.0.2/24 → 10.0.0.2/32): the address of an Address entry.</summary>
        internal IpPrefix AsHost() => new IpPrefix(_bytes, MaxLength);

        /// <summary>The prefix with its host bits cleared (192.0.2.5/24 → 192.0.2.0/24), as wg stores it.</summary>
        internal IpPrefix Network() => new IpPrefix(Masked(), Length);

        /// <summary>True when every address of <paramref name="other"/> is inside this prefix.</summary>
        internal bool Contains(IpPrefix other)
        {
            if (other == null || other.IsV6 != IsV6 || other.Length < Length) return false;
            for (int bit = 0; bit < Length; bit++)
                if (Bit(_bytes, bit) != Bit(other._bytes, bit)) return false;
            return true;
        }

        /// <summary>True when the two prefixes share an address (then one contains the other).</summary>
        internal bool Overlaps(IpPrefix other) => Contains(other) || (other != null && other.Contains(this));

        /// <summary>The same network: equal length and equal address once host bits are masked.</summary>
        internal bool SameNetwork(IpPrefix other) => other != null && other.Length == Length && Contains(other);

        public override string ToString() => new IPAddress(_bytes) + "/" + Length.ToString(CultureInfo.InvariantCulture);

        private byte[] Masked()
        {
            var net = (byte[])_bytes.Clone();
            for (int bit = Length; bit < MaxLength; bit++) net[bit / 8] &= (byte)~(0x80 >> (bit % 8));
            return net;
        }

        private static int Bit(byte[] b, int bit) => (b[bit / 8] >> (7 - bit % 8)) & 1;
    }
}
