using System;
using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.Keys;

namespace WgTroubleshoot
{
    /// <summary>
    /// A wg-quick configuration file (for example /etc/wireguard/wg0.conf) as read by wg and wg-quick.
    /// The private key is never exposed: only <see cref="HasPrivateKey"/> and the derived <see cref="PublicKey"/>.
    /// </summary>
    public sealed class WgConfig
    {
        /// <summary>The full path of the file.</summary>
        public string Path { get; internal set; }

        /// <summary>The interface name wg-quick derives from the file name (wg0 for wg0.conf).</summary>
        public string Interface { get; internal set; }

        /// <summary>The public key derived from the configured private key; null without a valid private key.</summary>
        public string PublicKey { get; internal set; }

        /// <summary>True when the [Interface] section sets a PrivateKey.</summary>
        public bool HasPrivateKey { get; internal set; }

        /// <summary>The Address entries as CIDRs (a missing /len is /32 or /128), in file order.</summary>
        public string[] Address { get; internal set; } = Array.Empty<string>();

        /// <summary>ListenPort; null when not set (a random port).</summary>
        public int? ListenPort { get; internal set; }

        /// <summary>MTU; null when not set (wg-quick then picks one from the routes, minus 80).</summary>
        public int? Mtu { get; internal set; }

        /// <summary>DNS servers and search domains, in file order.</summary>
        public string[] Dns { get; internal set; } = Array.Empty<string>();

        /// <summary>Table as written (off, auto, a number or a name); null when not set.</summary>
        public string Table { get; internal set; }

        /// <summary>FwMark as written (a number, 0x hex, or off); null when not set.</summary>
        public string FwMark { get; internal set; }

        /// <summary>PreUp commands as wg-quick runs them (text after '=', cut at the first '#', trimmed).</summary>
        public string[] PreUp { get; internal set; } = Array.Empty<string>();

        /// <summary>PostUp commands as wg-quick runs them (text after '=', cut at the first '#', trimmed).</summary>
        public string[] PostUp { get; internal set; } = Array.Empty<string>();

        /// <summary>PreDown commands as wg-quick runs them (text after '=', cut at the first '#', trimmed).</summary>
        public string[] PreDown { get; internal set; } = Array.Empty<string>();

        /// <summary>PostDown commands as wg-quick runs them (text after '=', cut at the first '#', trimmed).</summary>
        public string[] PostDown { get; internal set; } = Array.Empty<string>();

        /// <summary>SaveConfig: wg-quick rewrites the file from the live state on down (host names become IPs).</summary>
        public bool SaveConfig { get; internal set; }

        /// <summary>The [Peer] sections, in file order.</summary>
        public WgConfigPeer[] Peers { get; internal set; } = Array.Empty<WgConfigPeer>();

        /// <summary>The number of peers.</summary>
        public int PeerCount => Peers.Length;

        /// <summary>The private key (base64). Internal only: never output, never in messages.</summary>
        internal string PrivateKeyValue { get; set; }

        /// <summary>"wg0 (/etc/wireguard/wg0.conf, 3 peers)".</summary>
        public override string ToString()
            => $"{Interface} ({Path}, {PeerCount} peer{(PeerCount == 1 ? "" : "s")})";
    }

    /// <summary>One [Peer] section of a configuration file. The preshared key is never exposed.</summary>
    public sealed class WgConfigPeer
    {
        /// <summary>The interface the configuration file belongs to.</summary>
        public string Interface { get; internal set; }

        /// <summary>The text of a comment line directly above [Peer] (without the leading #'s); null if none.</summary>
        public string Name { get; internal set; }

        /// <summary>The peer's public key (base64).</summary>
        public string PublicKey { get; internal set; }

        /// <summary>True when the peer has a PresharedKey.</summary>
        public bool HasPresharedKey { get; internal set; }

        /// <summary>AllowedIPs as CIDRs (a missing /len is /32 or /128), all lines appended, in file order.</summary>
        public string[] AllowedIPs { get; internal set; } = Array.Empty<string>();

        /// <summary>Endpoint as written (host:port or [v6]:port); null when not set.</summary>
        public string Endpoint { get; internal set; }

        /// <summary>The host part of the endpoint (without brackets).</summary>
        public string EndpointHost { get; internal set; }

        /// <summary>The port part of the endpoint.</summary>
        public int? EndpointPort { get; internal set; }

        /// <summary>PersistentKeepalive in seconds; null when off or not set.</summary>
        public int? PersistentKeepalive { get; internal set; }

        /// <summary>The configuration file.</summary>
        public string Path { get; internal set; }

        /// <summary>The 1-based line of the [Peer] header.</summary>
        public int Line { get; internal set; }

        /// <summary>The preshared key (base64). Internal only: never output, never in messages.</summary>
        internal string PresharedKeyValue { get; set; }

        /// <summary>"wg0 peer laptop (AbCdEfGh…) 10.0.0.2/32".</summary>
        public override string ToString()
        {
            var label = Name != null ? $"{Name} ({WgKey.Short(PublicKey)})" : WgKey.Short(PublicKey);
            var ips = AllowedIPs.Length > 0 ? " " + string.Join(",", AllowedIPs) : string.Empty;
            return $"{Interface} peer {label}{ips}";
        }
    }

    /// <summary>
    /// A configuration file that wg or wg-quick would reject. The message names the file, the 1-based line
    /// and the problem; it never contains key material. ErrorId WgConfigParseError, category InvalidData.
    /// </summary>
    public sealed class WgConfigParseException : WgException
    {
        /// <summary>Creates the error for <paramref name="file"/> at <paramref name="line"/>.</summary>
        public WgConfigParseException(string file, int line, string problem)
            : base(ErrorIds.ConfigParseError, ErrorCategory.InvalidData,
                   $"{file ?? "(configuration)"}, line {line}: {problem}", file)
        {
            File = file;
            Line = line;
            Problem = problem;
        }

        /// <summary>The configuration file.</summary>
        public string File { get; }

        /// <summary>The 1-based line number of the problem.</summary>
        public int Line { get; }

        /// <summary>What is wrong, without the file and line.</summary>
        public string Problem { get; }
    }
}
