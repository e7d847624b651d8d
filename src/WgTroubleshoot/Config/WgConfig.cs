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

        /// <summary>
        /// PreUp commands as wg-quick runs them (text after '=', cut at the first '#', trimmed), with every token that
        /// decodes as a 32-byte key and is not a public key of the file shown as "(redacted)" (a key written into a
        /// hook is a secret): the text can differ from what runs.
        /// </summary>
        public string[] PreUp { get; internal set; } = Array.Empty<string>();

        /// <summary>
        /// PostUp commands as wg-quick runs them (text after '=', cut at the first '#', trimmed), with every token that
        /// decodes as a 32-byte key and is not a public key of the file shown as "(redacted)" (a key written into a
        /// hook is a secret): the text can differ from what runs.
        /// </summary>
        public string[] PostUp { get; internal set; } = Array.Empty<string>();

        /// <summary>
        /// PreDown commands as wg-quick runs them (text after '=', cut at the first '#', trimmed), with every token that
        /// decodes as a 32-byte key and is not a public key of the file shown as "(redacted)" (a key written into a
        /// hook is a secret): the text can differ from what runs.
        /// </summary>
        public string[] PreDown { get; internal set; } = Array.Empty<string>();

        /// <summary>
        /// PostDown commands as wg-quick runs them (text after '=', cut at the first '#', trimmed), with every token that
        /// decodes as a 32-byte key and is not a public key of the file shown as "(redacted)" (a key written into a
        /// hook is a secret): the text can differ from what runs.
        /// </summary>
        public string[] PostDown { get; internal set; } = Array.Empty<string>();

        /// <summary>SaveConfig: wg-quick rewrites the file from the live state on down (host names become IPs).</summary>
        public bool SaveConfig { get; internal set; }

        /// <summary>The [Peer] sections, in file order.</summary>
        public WgConfigPeer[] Peers { get; internal set; } = Array.Empty<WgConfigPeer>();

        /// <summary>The number of peers.</summary>
        public int PeerCount => Peers.Length;

        /// <summary>The wireguard-tools version whose wg-quick rules this file was read by (hooks and '#' differ by version).</summary>
        public Version ToolsVersion => ToolsVersionRead;

        /// <summary>The private key (base64). Internal only: never output, never in messages.</summary>
        internal string PrivateKeyValue { get; set; }

        /// <summary>The PrivateKey line holds the all-zero key, which wg treats as no key.</summary>
        internal bool PrivateKeyIsZero { get; set; }

        internal Version ToolsVersionRead { get; set; }

        /// <summary>Values that wg or wg-quick read differently from how they look (for the linter).</summary>
        internal System.Collections.Generic.List<Config.WgReadNote> Notes { get; set; } = new System.Collections.Generic.List<Config.WgReadNote>();

        /// <summary>The 1-based line of the first [Interface] header; 0 when the file has none.</summary>
        internal int InterfaceLine { get; set; }

        /// <summary>Where each [Interface] key was set (canonical key name → 1-based line of its last occurrence).</summary>
        internal System.Collections.Generic.Dictionary<string, int> KeyLines { get; } = new System.Collections.Generic.Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);

        /// <summary>The 1-based line of an [Interface] key (the last occurrence), or null when it is not set.</summary>
        internal int? LineOf(string key) => KeyLines.TryGetValue(key, out var l) ? l : (int?)null;

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

        /// <summary>Endpoint as written (host:port or [v6]:port); null when not set. EndpointHost and EndpointPort are what wg uses.</summary>
        public string Endpoint { get; internal set; }

        /// <summary>The host wg sends to: the address as wg reads it (010.0.0.1 is 8.0.0.1), or the host name it resolves.</summary>
        public string EndpointHost { get; internal set; }

        /// <summary>The port wg sends to, as getaddrinfo reads the port text (https is 443, 70000 is 4464).</summary>
        public int? EndpointPort { get; internal set; }

        /// <summary>PersistentKeepalive in seconds; null when off or not set.</summary>
        public int? PersistentKeepalive { get; internal set; }

        /// <summary>The configuration file.</summary>
        public string Path { get; internal set; }

        /// <summary>The 1-based line of the [Peer] header.</summary>
        public int Line { get; internal set; }

        /// <summary>The preshared key (base64). Internal only: never output, never in messages.</summary>
        internal string PresharedKeyValue { get; set; }

        /// <summary>The PresharedKey line holds the all-zero key, which wg treats as no preshared key.</summary>
        internal bool PresharedKeyIsZero { get; set; }

        /// <summary>The 1-based line of each entry of <see cref="AllowedIPs"/>, in the same order.</summary>
        internal int[] AllowedIPsLines { get; set; } = Array.Empty<int>();

        /// <summary>Where each [Peer] key was set (canonical key name → 1-based line of its last occurrence).</summary>
        internal System.Collections.Generic.Dictionary<string, int> KeyLines { get; } = new System.Collections.Generic.Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);

        /// <summary>The 1-based line of a [Peer] key (the last occurrence), or the [Peer] header line when it is not set.</summary>
        internal int LineOf(string key) => KeyLines.TryGetValue(key, out var l) ? l : Line;

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
                   $"{file ?? "(configuration)"}, line {line}: {KeyRedactor.Scrub(problem)}", file)
        {
            File = file;
            Line = line;
            Problem = KeyRedactor.Scrub(problem);
        }

        /// <summary>The configuration file.</summary>
        public string File { get; }

        /// <summary>The 1-based line number of the problem.</summary>
        public int Line { get; }

        /// <summary>What is wrong, without the file and line.</summary>
        public string Problem { get; }
    }
}
