using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using WgTroubleshoot.Keys;

namespace WgTroubleshoot.Config
{
    /// <summary>What a parse follows beyond the file: the wireguard-tools version and the machine's name databases.</summary>
    internal sealed class WgParseOptions
    {
        /// <summary>The wireguard-tools version to read by; null: the installed one (see <see cref="WgToolsVersion.Effective"/>).</summary>
        internal Version ToolsVersion { get; set; }

        /// <summary>UDP port of a service name (/etc/services); null when unknown.</summary>
        internal Func<string, int?> ServiceLookup { get; set; } = NativeSyntax.ServicePort;

        /// <summary>True when iproute2 knows a routing table of that name (rt_tables).</summary>
        internal Func<string, bool> TableNameExists { get; set; } = NativeSyntax.TableNameExists;

        /// <summary>True when a network interface of that name exists (an IPv6 zone such as %eth0).</summary>
        internal Func<string, bool> InterfaceExists { get; set; } = DefaultInterfaceExists;

        internal static readonly WgParseOptions Default = new WgParseOptions();

        private static bool DefaultInterfaceExists(string name)
        {
            if (UnixFile.IsWindows) return true;
            try { return name.IndexOf('/') < 0 && name != "." && name != ".." && Directory.Exists("/sys/class/net/" + name); }
            catch (Exception ex) when (ex is IOException || ex is ArgumentException || ex is UnauthorizedAccessException) { return true; }
        }
    }

    /// <summary>Something wg or wg-quick reads differently from how it looks (a legacy address, a wrapped port), for the linter.</summary>
    internal sealed class WgReadNote
    {
        internal WgReadNote(int line, string message, string fix, bool warning, string peer = null)
        {
            Line = line; Message = message; Fix = fix; Warning = warning; Peer = peer;
        }

        internal int Line { get; }
        internal string Message { get; }
        internal string Fix { get; }
        internal bool Warning { get; }
        internal string Peer { get; set; }
    }

    /// <summary>The outcome of a parse: the configuration when the file is valid, and every problem found.</summary>
    internal sealed class WgParseResult
    {
        internal WgConfig Config { get; set; }
        internal List<WgConfigParseException> Errors { get; } = new List<WgConfigParseException>();
        internal List<WgReadNote> Notes { get; } = new List<WgReadNote>();
        internal bool Success => Errors.Count == 0;

        /// <summary>What could be read even when there are errors (for rules that read only the lines that parsed).</summary>
        internal WgConfig PartialConfig { get; set; }
    }

    /// <summary>
    /// Reads a <see cref="WgConfigDocument"/> the way `wg-quick up` does, checked against wireguard-tools:
    /// wg-quick reads each line with bash's `read` (NUL bytes dropped) and takes its own keys (Address, DNS,
    /// MTU, Table, PreUp, PostUp, PreDown, PostDown, SaveConfig) out of the [Interface] section, with the
    /// value trimmed and cut at the first '#' (hooks keep the '#' from wireguard-tools 1.0.20260223 on); it
    /// hands every other line to `wg setconf`, which drops comments and all whitespace, matches section and
    /// key names case-insensitively and rejects anything it does not know. Ports are read by getaddrinfo,
    /// endpoint addresses by getaddrinfo (inet_aton's legacy IPv4 forms included), Address, MTU and Table by
    /// iproute2, each exactly as that reader does. Whatever either tool rejects is a
    /// <see cref="WgConfigParseException"/>; every malformed line is found in one pass (<see cref="ParseAll"/>).
    /// </summary>
    internal static class WgConfigParser
    {
        private enum Section { None, Interface, Peer, Unknown }

        private static readonly string[] QuickKeys = { "Address", "DNS", "MTU", "Table", "PreUp", "PostUp", "PreDown", "PostDown", "SaveConfig" };

        /// <summary>Reads and parses a file. Missing file, permission and I/O problems become WgExceptions.</summary>
        internal static WgConfig ParseFile(string path, WgParseOptions options = null) => Parse(WgConfigFile.ReadDocument(path), options);

        /// <summary>Parses bytes (the file name in <paramref name="path"/> names the interface and the messages).</summary>
        internal static WgConfig Parse(byte[] bytes, string path, WgParseOptions options = null) => Parse(WgConfigDocument.Parse(bytes, path), options);

        /// <summary>Parses a document; throws only <see cref="WgConfigParseException"/> (the first problem, naming the other lines).</summary>
        internal static WgConfig Parse(WgConfigDocument doc, WgParseOptions options = null)
        {
            var result = ParseAll(doc, options);
            if (result.Success) return result.Config;
            var first = result.Errors[0];
            if (result.Errors.Count == 1) throw first;
            var others = result.Errors.Skip(1).Select(e => e.Line).Distinct().ToArray();
            throw new WgConfigParseException(first.File, first.Line,
                first.Problem + $" ({others.Length} more problem{(others.Length == 1 ? "" : "s")}: line{(others.Length == 1 ? "" : "s")} {string.Join(", ", others.Take(10))}{(others.Length > 10 ? ", …" : "")}; Test-WgConfig lists them all.)");
        }

        /// <summary>Parses a document and collects every problem (one per line at most) instead of stopping at the first.</summary>
        internal static WgParseResult ParseAll(WgConfigDocument doc, WgParseOptions options = null)
        {
            var state = new ParseState(doc, options ?? WgParseOptions.Default);
            if (doc.HasByteOrderMark)
                state.Add(state.Error(1, "the file starts with a UTF-8 byte order mark (BOM); wg rejects the line (\"Line unrecognized\"). Save the file as UTF-8 without BOM."));
            for (int i = 0; i < doc.Lines.Count; i++)
            {
                try
                {
                    state.ReadLine(i + 1, doc.Lines[i]);
                }
                catch (WgConfigParseException ex)
                {
                    state.Add(ex);
                }
                catch (Exception ex) when (!(ex is OutOfMemoryException))
                {
                    // A bug in this parser must still surface as the documented error, never as a stray exception.
                    state.Add(state.Error(i + 1, "the line could not be read (" + ex.GetType().Name + ")."));
                }
            }
            return state.Finish();
        }

        private sealed class ParseState
        {
            private readonly WgConfigDocument _doc;
            private readonly WgParseOptions _options;
            private readonly Version _version;
            private readonly WgConfig _config;
            private readonly WgParseResult _result = new WgParseResult();
            private readonly HashSet<string> _secrets = new HashSet<string>(StringComparer.Ordinal);
            private HashSet<string> _publicKeyIds = new HashSet<string>(StringComparer.Ordinal);
            private readonly List<string> _address = new List<string>(), _dns = new List<string>();
            private readonly List<IpPrefix> _addressPrefixes = new List<IpPrefix>();
            private readonly List<string> _preUp = new List<string>(), _postUp = new List<string>(), _preDown = new List<string>(), _postDown = new List<string>();
            private readonly List<WgConfigPeer> _peers = new List<WgConfigPeer>();
            private readonly List<List<string>> _peerIps = new List<List<string>>();
            private readonly List<List<int>> _peerIpLines = new List<List<int>>();
            private readonly HashSet<int> _errorLines = new HashSet<int>();
            private bool _quickInterface;   // wg-quick's idea of "in [Interface]"
            private Section _section;       // wg's idea of the current section
            private string _tableValue;
            private int _tableLine;
            internal int LineNumber;

            internal ParseState(WgConfigDocument doc, WgParseOptions options)
            {
                _doc = doc;
                _options = options;
                _version = WgToolsVersion.Effective(options.ToolsVersion);
                var path = doc.Path;
                _config = new WgConfig { Path = path, Interface = InterfaceNameFromPath(path), ToolsVersionRead = _version };
                CollectSecrets();
            }

            /// <summary>
            /// Every value that may be a secret, so that no message shows any 10-character piece of it: the
            /// PrivateKey and PresharedKey values (valid or not) and every token anywhere in the file, comments
            /// included, that decodes as a 32-byte key and is not a peer's PublicKey.
            /// </summary>
            private void CollectSecrets()
            {
                var publicKeys = new HashSet<string>(StringComparer.Ordinal);
                foreach (var line in _doc.Lines)
                    if (line.HasKey("PublicKey") && line.Value.Length > 0) publicKeys.Add(line.Value);
                // the public keys that redacted text (hooks, peer names) may keep
                _publicKeyIds = KeyRedactor.KeyIds(publicKeys);
                foreach (var line in _doc.Lines)
                {
                    if ((line.HasKey("PrivateKey") || line.HasKey("PresharedKey")) && line.Value != null && line.Value.Length >= KeyRedactor.SecretFragmentLength)
                        _secrets.Add(line.Value);
                    if (line.Content.Length < 43) continue;
                    foreach (var (start, length) in KeyRedactor.Runs(line.Content))
                    {
                        if (length < 43) continue;
                        var run = line.Content.Substring(start, length);
                        if (publicKeys.Contains(run)) continue;
                        // The run may be a key glued to other key characters ("PrivateKey=<k>"): every 43/44/64 window counts.
                        foreach (int w in new[] { 43, 44, 64 })
                            for (int s = 0; s + w <= run.Length; s++)
                            {
                                var token = run.Substring(s, w);
                                if (KeyRedactor.DecodesAsKey(token) && !publicKeys.Contains(token)) _secrets.Add(token);
                            }
                    }
                }
            }

            internal void Add(WgConfigParseException ex)
            {
                if (_errorLines.Add(ex.Line) || ex.Line == 0) _result.Errors.Add(ex);
            }

            internal WgConfigParseException Error(int line, string problem)
                => new WgConfigParseException(_doc.Path, line, KeyRedactor.Scrub(problem, null, _secrets));

            private WgConfigParseException Error(string problem) => Error(LineNumber, problem);

            private void Note(string message, string fix, bool warning, string peer = null)
                => _result.Notes.Add(new WgReadNote(LineNumber, KeyRedactor.Scrub(message, null, _secrets), KeyRedactor.Scrub(fix, null, _secrets), warning, peer));

            private string Show(string raw) => KeyRedactor.Scrub(RawText.ForMessage(raw), null, _secrets);

            internal void ReadLine(int number, WgConfigLine line)
            {
                LineNumber = number;
                // wg-quick's pass: its own keys, only while it thinks it is in [Interface].
                if (line.QuickKey.StartsWith("[", StringComparison.Ordinal))
                    _quickInterface = RawText.EqualsIgnoreCase(line.QuickKey, "[Interface]");
                if (_quickInterface && TryReadQuickKey(line)) return;

                // wg's pass: everything else.
                if (line.IsEmpty) return;
                if (line.IsSection("Interface"))
                {
                    _section = Section.Interface;
                    if (_config.InterfaceLine == 0) _config.InterfaceLine = number;
                    return;
                }
                if (line.IsSection("Peer"))
                {
                    _section = Section.Peer;
                    _peers.Add(new WgConfigPeer { Interface = _config.Interface, Path = _doc.Path, Line = number, Name = KeyRedactor.RedactKeyTokens(NameAbove(number), _publicKeyIds) }); // a key in a comment never becomes a name
                    _peerIps.Add(new List<string>());
                    _peerIpLines.Add(new List<int>());
                    return;
                }
                if (line.IsSectionHeader)
                {
                    // The keys under an unknown header are not checked again: the header is the one mistake.
                    _section = Section.Unknown;
                    throw Error($"unknown section '{Show(line.Compact)}': wg knows only [Interface] and [Peer] (\"Line unrecognized\").");
                }
                if (_section == Section.Unknown) return;
                if (line.Key == null)
                    throw Error("the line is neither a section header, a comment, nor 'Key = Value' (wg: \"Line unrecognized\").");
                var key = line.Key;
                if (_section == Section.None)
                    throw Error($"{DescribeKey(key)} is outside any section; put it under [Interface] or [Peer].");
                if (line.Value.Length == 0)
                    throw Error($"{DescribeKey(key)} has no value (wg: \"Line unrecognized\").");
                if (_section == Section.Interface) ReadInterfaceKey(key, line.Value);
                else ReadPeerKey(key, line.Value);
            }

            private bool TryReadQuickKey(WgConfigLine line)
            {
                string key = null;
                foreach (var k in QuickKeys)
                    if (RawText.EqualsIgnoreCase(line.QuickKey, k)) key = k;
                if (key == null) return false;
                _config.KeyLines[key] = LineNumber;
                var value = line.QuickValue;
                bool hashInHooks = _version >= WgToolsVersion.HashInHooks;
                switch (key)
                {
                    case "Address":
                        foreach (var item in SplitWords(value)) ReadAddress(item);
                        break;
                    case "DNS":
                        foreach (var item in SplitWords(value)) _dns.Add(RawText.ToDisplayExact(item));
                        break;
                    case "MTU":
                        ReadMtu(value);
                        break;
                    case "Table":
                        // wg-quick compares Table case-sensitively (off, auto) and hands anything else to `ip route add ... table`.
                        _tableValue = value.Length == 0 ? null : value;
                        _tableLine = LineNumber;
                        _config.Table = _tableValue == null ? null : RawText.ToDisplayExact(_tableValue);
                        break;
                    case "SaveConfig":
                        if (RawText.EqualsIgnoreCase(value, "true")) _config.SaveConfig = true;
                        else if (RawText.EqualsIgnoreCase(value, "false")) _config.SaveConfig = false;
                        else throw Error($"SaveConfig '{Show(value)}' is neither true nor false (wg-quick: \"is neither true nor false\").");
                        break;
                    default:
                        var hook = hashInHooks ? line.UnstrippedValue : value;
                        // hook text is output (Get-WgConfig, snapshots, lint evidence): a key written into a command is redacted
                        var shown = KeyRedactor.RedactKeyTokens(RawText.ToDisplayExact(hook), _publicKeyIds);
                        (key == "PreUp" ? _preUp : key == "PostUp" ? _postUp : key == "PreDown" ? _preDown : _postDown).Add(shown);
                        if (!hashInHooks && line.Content.IndexOf('#') >= 0 && line.UnstrippedValue != value && line.Stripped.IndexOf('=') >= 0)
                            Note($"{key} on line {LineNumber} contains '#': wireguard-tools {_version} (wg-quick) runs only the text before it, '{Show(value)}'; wireguard-tools {WgToolsVersion.HashInHooks} and later run the whole line.",
                                "Move the '#' and what follows into a script that the hook calls, so that every wg-quick version runs the same command", warning: true);
                        if (RawText.IsInvalidUtf8(hook))
                            Note($"{key} on line {LineNumber} holds bytes that are not UTF-8 ({shown}); wg-quick passes them to bash unchanged.",
                                "Nothing, if they are meant; otherwise save the file as UTF-8", warning: false);
                        break;
                }
                return true;
            }

            /// <summary>One Address word as `ip address add` reads it.</summary>
            private void ReadAddress(string item)
            {
                var prefix = NativeSyntax.ParseIprouteAddress(item);
                if (prefix == null)
                    throw Error($"Address '{Show(item)}' is not an IP address with an optional /prefix length: `ip address add` rejects it and wg-quick up fails.");
                if (prefix.IsV6 && prefix.AddressBytes[0] == 0xFF)
                    throw Error($"Address '{Show(item)}' is an IPv6 multicast address: the kernel refuses it (\"Cannot assign multicast address\") and wg-quick up fails.");
                foreach (var other in _addressPrefixes)
                    if (other.IsV6 == prefix.IsV6 && other.AsHost().SameNetwork(prefix.AsHost()) && (prefix.IsV6 || other.Length == prefix.Length))
                        throw Error($"Address {prefix} is given twice: the second `ip address add` fails (\"File exists\") and wg-quick up fails.");
                _addressPrefixes.Add(prefix);
                _address.Add(prefix.ToString());
                var strict = ParseCidr(item);
                if (strict == null || strict != prefix.ToString())
                    Note($"Address '{Show(item)}' is not written the usual way: ip reads it as {prefix}.", $"Address = {prefix}", warning: true);
            }

            /// <summary>MTU as `ip link set mtu` reads it (strtol, any base) and the kernel takes it (68-65535).</summary>
            private void ReadMtu(string value)
            {
                if (value.Length == 0) { _config.Mtu = null; return; }
                if (!NativeSyntax.TryIprouteInteger(value, out var mtu))
                    throw Error($"MTU '{Show(value)}' is not a number: `ip link set mtu` rejects it and wg-quick up fails.");
                if (mtu < 68 || mtu > 65535)
                    throw Error($"MTU {mtu.ToString(CultureInfo.InvariantCulture)}{(value == mtu.ToString(CultureInfo.InvariantCulture) ? "" : " ('" + Show(value) + "')")} is outside 68-65535: the kernel refuses it and wg-quick up fails.");
                _config.Mtu = (int)mtu;
                if (value != mtu.ToString(CultureInfo.InvariantCulture))
                    Note($"MTU '{Show(value)}' is not plain decimal: ip reads it as {mtu.ToString(CultureInfo.InvariantCulture)}{(value.Length > 1 && value[0] == '0' && value[1] != 'x' && value[1] != 'X' ? " (a leading 0 means octal)" : "")}.", $"MTU = {mtu.ToString(CultureInfo.InvariantCulture)}", warning: true);
            }

            private void ReadInterfaceKey(string key, string value)
            {
                RecordLine(_config.KeyLines, key, "PrivateKey", "ListenPort", "FwMark");
                if (RawText.EqualsIgnoreCase(key, "PrivateKey"))
                {
                    if (!WgKey.IsValid(value)) throw Error("PrivateKey is not a valid key (base64 of 32 bytes, 44 characters ending in '='). The value is not shown.");
                    if (IsZeroKey(value))
                    {
                        _config.PrivateKeyValue = null;
                        _config.PrivateKeyIsZero = true;
                    }
                    else
                    {
                        _config.PrivateKeyValue = value;
                        _config.PrivateKeyIsZero = false;
                    }
                }
                else if (RawText.EqualsIgnoreCase(key, "ListenPort"))
                {
                    if (!NativeSyntax.TryGetAddrInfoPort(value, _options.ServiceLookup, out var port, out var spelling))
                        throw Error($"ListenPort '{Show(value)}' is neither a port number nor a UDP service name: wg rejects it (getaddrinfo: \"Servname not supported\").");
                    _config.ListenPort = port;
                    PortNote("ListenPort", value, port, spelling, null);
                }
                else if (RawText.EqualsIgnoreCase(key, "FwMark"))
                {
                    _config.FwMark = ParseFwMark(value) ?? throw Error($"FwMark '{Show(value)}' is neither off nor a number 0-0xffffffff.");
                }
                else
                {
                    throw Error($"unknown key {DescribeKey(key)} in [Interface]: wg accepts PrivateKey, ListenPort and FwMark, wg-quick adds Address, DNS, MTU, Table, PreUp, PostUp, PreDown, PostDown and SaveConfig.");
                }
            }

            private void PortNote(string what, string value, int port, PortSpelling spelling, string peer)
            {
                var p = port.ToString(CultureInfo.InvariantCulture);
                switch (spelling)
                {
                    case PortSpelling.Wrapped:
                        Note(port == 0
                                ? $"{what} '{Show(value)}' is above 65535: wg keeps its low 16 bits, which are 0{(what == "ListenPort" ? ", so the interface listens on a random port" : "")}."
                                : $"{what} '{Show(value)}' is above 65535: wg keeps its low 16 bits and uses port {p}.",
                            $"{what} = {(what == "ListenPort" ? (port == 0 ? "<a port 1-65535>" : p) : "<host>:" + p)}", warning: true, peer: peer);
                        break;
                    case PortSpelling.Signed:
                        Note($"{what} '{Show(value)}' is not plain decimal: wg reads it as port {p}.", $"{what} = {(what == "ListenPort" ? p : "<host>:" + p)}", warning: false, peer: peer);
                        break;
                    case PortSpelling.ServiceName:
                        Note($"{what} '{Show(value)}' is a service name: wg looks it up in /etc/services and uses port {p}.", $"{what} = {(what == "ListenPort" ? p : "<host>:" + p)}", warning: false, peer: peer);
                        break;
                }
            }

            private void ReadPeerKey(string key, string value)
            {
                var peer = _peers[_peers.Count - 1];
                RecordLine(peer.KeyLines, key, "PublicKey", "PresharedKey", "AllowedIPs", "Endpoint", "PersistentKeepalive");
                if (RawText.EqualsIgnoreCase(key, "PublicKey"))
                {
                    if (!WgKey.IsValid(value)) throw Error("PublicKey is not a valid key (base64 of 32 bytes, 44 characters ending in '='). The value is not shown.");
                    peer.PublicKey = value;
                }
                else if (RawText.EqualsIgnoreCase(key, "PresharedKey"))
                {
                    if (!WgKey.IsValid(value)) throw Error("PresharedKey is not a valid key (base64 of 32 bytes, 44 characters ending in '='). The value is not shown.");
                    // An all-zero preshared key is no preshared key to wg.
                    peer.PresharedKeyValue = IsZeroKey(value) ? null : value;
                    peer.PresharedKeyIsZero = IsZeroKey(value);
                }
                else if (RawText.EqualsIgnoreCase(key, "AllowedIPs"))
                {
                    foreach (var item in value.Split(','))
                    {
                        _peerIps[_peerIps.Count - 1].Add(ParseCidr(item)
                            ?? throw Error($"AllowedIPs entry '{Show(item)}' is not an IP address with an optional /prefix length (wg: \"Unable to parse IP address\" or \"AllowedIP is not in the correct format\")."));
                        _peerIpLines[_peerIpLines.Count - 1].Add(LineNumber);
                    }
                }
                else if (RawText.EqualsIgnoreCase(key, "Endpoint"))
                {
                    ReadEndpoint(value, peer);
                }
                else if (RawText.EqualsIgnoreCase(key, "PersistentKeepalive"))
                {
                    if (RawText.EqualsIgnoreCase(value, "off")) peer.PersistentKeepalive = null;
                    else if (TryParseDecimal(value, 65535, out var ka)) peer.PersistentKeepalive = (int)ka;
                    else throw Error($"PersistentKeepalive '{Show(value)}' is neither off nor 0-65535 seconds.");
                }
                else
                {
                    throw Error($"unknown key {DescribeKey(key)} in [Peer]: wg accepts PublicKey, PresharedKey, AllowedIPs, Endpoint and PersistentKeepalive.");
                }
            }

            /// <summary>
            /// wg's endpoint: "[host]:port" or "host:port" split at the last colon, then getaddrinfo(host, port):
            /// inet_aton's IPv4 forms, IPv6 with an optional zone, "*" (the loopback address), else a host name.
            /// </summary>
            private void ReadEndpoint(string value, WgConfigPeer peer)
            {
                string host, portText;
                bool bracketed = value.StartsWith("[", StringComparison.Ordinal);
                if (bracketed)
                {
                    int close = value.IndexOf(']');
                    if (close < 0) throw Error($"Endpoint '{Show(value)}' has no closing ']' (wg: \"Unable to find matching brace of endpoint\").");
                    host = value.Substring(1, close - 1);
                    if (close + 1 >= value.Length || value[close + 1] != ':' || close + 2 >= value.Length)
                        throw Error($"Endpoint '{Show(value)}' has no port; write [address]:port.");
                    portText = value.Substring(close + 2);
                }
                else
                {
                    int colon = value.LastIndexOf(':');
                    if (colon < 0 || colon == value.Length - 1)
                        throw Error($"Endpoint '{Show(value)}' has no port; write host:port or [IPv6]:port.");
                    host = value.Substring(0, colon);
                    portText = value.Substring(colon + 1);
                }
                var address = ResolveLiteral(value, host, out bool isName);
                if (!NativeSyntax.TryGetAddrInfoPort(portText, _options.ServiceLookup, out var port, out var spelling))
                    throw Error($"Endpoint '{Show(value)}' has no valid port: '{Show(portText)}' is neither a number nor a UDP service name (getaddrinfo: \"Servname not supported\").");
                peer.Endpoint = RawText.ToDisplayExact(value);
                peer.EndpointHost = isName ? RawText.ToDisplayExact(host) : address;
                peer.EndpointPort = port;
                PortNote("Endpoint port", portText, port, spelling, peer.PublicKey);
                if (!isName && host != address && !(bracketed && host.IndexOf(':') >= 0 && RawText.EqualsIgnoreCase(host, address)))
                {
                    var shownAs = address.IndexOf(':') >= 0 ? "[" + address + "]" : address;
                    Note(host == "*"
                            ? $"Endpoint host '*' is the loopback address to getaddrinfo: wg sends to {shownAs}:{port.ToString(CultureInfo.InvariantCulture)}."
                            : $"Endpoint host '{Show(host)}' is not written the usual way: wg reads it as {address}{(host.IndexOf(':') < 0 && host.IndexOf('.') >= 0 && LooksOctal(host) ? " (a leading 0 means octal)" : "")}.",
                        $"Endpoint = {shownAs}:{port.ToString(CultureInfo.InvariantCulture)}", warning: true, peer: peer.PublicKey);
                }
                else if (!bracketed && host.IndexOf(':') >= 0)
                {
                    Note($"Endpoint '{Show(value)}' is an IPv6 address without brackets: wg splits it at the last ':' (address {address}, port {port.ToString(CultureInfo.InvariantCulture)}).",
                        $"Endpoint = [{RawText.ToDisplayExact(host)}]:{port.ToString(CultureInfo.InvariantCulture)}", warning: false, peer: peer.PublicKey);
                }
            }

            private static bool LooksOctal(string host)
            {
                foreach (var part in host.Split('.')) if (part.Length > 1 && part[0] == '0') return true;
                return false;
            }

            /// <summary>The address getaddrinfo makes of a numeric host, or null for a name (<paramref name="isName"/>); throws when it can never resolve.</summary>
            private string ResolveLiteral(string value, string host, out bool isName)
            {
                isName = false;
                if (host.Length == 0) throw Error($"Endpoint '{Show(value)}' has no host.");
                if (host == "*") return IPAddress.IPv6Loopback.ToString();
                if (NativeSyntax.TryInetAton(host, out var v4)) return v4.ToString();
                if (host.IndexOf(':') >= 0)
                {
                    int pct = host.IndexOf('%');
                    var addrText = pct < 0 ? host : host.Substring(0, pct);
                    if (!TryParseIPv6(addrText, out var v6))
                        throw Error($"Endpoint '{Show(value)}': the host '{Show(host)}' is neither an IPv6 address nor a name, so wg cannot resolve it (\"Name or service not known\"){(value.StartsWith("[", StringComparison.Ordinal) ? "" : "; an IPv6 address needs brackets: [address]:port")}.");
                    if (pct < 0) return v6.ToString();
                    var zone = host.Substring(pct + 1);
                    var b = v6.GetAddressBytes();
                    bool scoped = b[0] == 0xFE && (b[1] & 0xC0) == 0x80 || b[0] == 0xFF && ((b[1] & 0x0F) == 1 || (b[1] & 0x0F) == 2);
                    bool numeric = zone.Length > 0 && zone[0] >= '0' && zone[0] <= '9' && TryParseDecimal(zone, uint.MaxValue, out _);
                    bool named = scoped && zone.Length > 0 && zone.Length <= 15 && _options.InterfaceExists(RawText.ToDisplay(zone));
                    if (!numeric && !named)
                        throw Error(scoped
                            ? $"Endpoint '{Show(value)}': the zone '%{Show(zone)}' is no interface of this machine and no number, so wg cannot resolve it (\"Name or service not known\")."
                            : $"Endpoint '{Show(value)}': only a link-local address may name an interface as its zone; wg cannot resolve '{Show(host)}' (\"Name or service not known\").");
                    return v6.ToString() + "%" + RawText.ToDisplay(zone);
                }
                var reason = NeverResolves(host);
                if (reason != null)
                    throw Error($"Endpoint '{Show(value)}': the host {reason}, so wg can never resolve it (\"Name or service not known\").");
                isName = true;
                return null;
            }

            /// <summary>Why a host name can never resolve through DNS, or null when it may.</summary>
            private string NeverResolves(string host)
            {
                foreach (var c in host)
                {
                    if (c >= 0x80) return "contains a byte that is not ASCII (an invisible character or a non-ASCII letter; wg does not convert international names)";
                    if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_'))
                        return $"'{Show(host)}' contains '{Show(c.ToString())}', which no host name has";
                }
                var name = host.EndsWith(".", StringComparison.Ordinal) ? host.Substring(0, host.Length - 1) : host;
                if (name.Length == 0 || name.Length > 253) return $"'{Show(host)}' is not a host name (empty or longer than 253 characters)";
                var labels = name.Split('.');
                foreach (var l in labels)
                    if (l.Length == 0 || l.Length > 63) return $"'{Show(host)}' has an empty or over-long label";
                var last = labels[labels.Length - 1];
                bool allDigits = true;
                foreach (var c in last) if (c < '0' || c > '9') allDigits = false;
                if (allDigits) return $"'{Show(host)}' looks like an IPv4 address but is not one (each part 0-255, at most four parts)";
                return null;
            }

            /// <summary>Remembers the line of a known key under its canonical spelling (unknown keys are rejected elsewhere).</summary>
            private void RecordLine(Dictionary<string, int> lines, string key, params string[] known)
            {
                foreach (var k in known)
                    if (RawText.EqualsIgnoreCase(key, k)) lines[k] = LineNumber;
            }

            /// <summary>The peer name: a comment on the line directly above the [Peer] header (key-like text hidden).</summary>
            private string NameAbove(int headerLine)
            {
                if (headerLine < 2) return null;
                var above = _doc.Lines[headerLine - 2];
                if (!above.IsComment) return null;
                var text = RawText.Trim(above.Content.Replace("\0", string.Empty)).TrimStart('#');
                text = RawText.Trim(text);
                return text.Length == 0 ? null : KeyRedactor.Scrub(RawText.ToDisplayExact(text), null, _secrets);
            }

            internal WgParseResult Finish()
            {
                for (int i = 0; i < _peers.Count; i++)
                {
                    if (_peers[i].PublicKey == null && !_errorLines.Contains(_peers[i].LineOf("PublicKey")))
                        Add(Error(_peers[i].Line, "this [Peer] section has no PublicKey (wg: \"A peer is missing a public key\")."));
                    _peers[i].HasPresharedKey = _peers[i].PresharedKeyValue != null;
                    _peers[i].AllowedIPs = _peerIps[i].ToArray();
                    _peers[i].AllowedIPsLines = _peerIpLines[i].ToArray();
                }
                CheckTable();
                _config.HasPrivateKey = _config.PrivateKeyValue != null;
                _config.PublicKey = WgKey.PublicFromPrivate(_config.PrivateKeyValue);
                // public keys read here may be shown wherever output is redacted (never one that is also a secret of the file)
                KeyRedactor.RememberPublicKey(_config.PublicKey);
                foreach (var p in _peers)
                    if (p.PublicKey != null && !_secrets.Contains(p.PublicKey) && p.PublicKey != _config.PrivateKeyValue && p.PublicKey != p.PresharedKeyValue)
                        KeyRedactor.RememberPublicKey(p.PublicKey);
                _config.Address = _address.ToArray();
                _config.Dns = _dns.ToArray();
                _config.PreUp = _preUp.ToArray();
                _config.PostUp = _postUp.ToArray();
                _config.PreDown = _preDown.ToArray();
                _config.PostDown = _postDown.ToArray();
                _config.Peers = _peers.ToArray();
                _config.Notes = _result.Notes;
                // Line errors in file order, then what wg finds at the end (a peer without a key) and wg-quick after it (Table), as the tools meet them.
                if (_result.Errors.Count == 0) _result.Config = _config;
                _result.PartialConfig = _config;
                return _result;
            }

            /// <summary>
            /// Table as wg-quick uses it: exactly "off" or "auto" (case-sensitive), else `ip route add ... table
            /// VALUE` for every route, which needs a table name from rt_tables or a number (any base) that fits 32 bits.
            /// </summary>
            private void CheckTable()
            {
                if (_tableValue == null || _tableValue == "off" || _tableValue == "auto") return;
                LineNumber = _tableLine;
                bool routes = _peers.Any(p => p.AllowedIPs.Length > 0);
                if (_options.TableNameExists(_tableValue)) return;
                if (NativeSyntax.TryIprouteUnsigned(_tableValue, out var id))
                {
                    var idText = id.ToString(CultureInfo.InvariantCulture);
                    if (_tableValue != idText)
                        Note($"Table '{Show(_tableValue)}' is not plain decimal: ip reads it as table {idText}.", $"Table = {idText}", warning: true);
                    return;
                }
                var lower = _tableValue.ToLowerInvariant();
                var hint = lower == "off" || lower == "auto" ? $" wg-quick compares Table case-sensitively: only '{lower}' means {lower}." : "";
                if (routes)
                    Add(Error(_tableLine, $"Table '{Show(_tableValue)}' is neither off, auto, a routing table name of this machine (rt_tables) nor a number 0-4294967295: `ip route add ... table {Show(_tableValue)}` fails and wg-quick up fails.{hint}"));
                else
                    Note($"Table '{Show(_tableValue)}' is neither off, auto, a routing table name (rt_tables) nor a table number; wg-quick up works only because no peer has AllowedIPs, so no route is added.{hint}",
                        lower == "off" || lower == "auto" ? $"Table = {lower}" : "Table = off (or a table number, or a name from /etc/iproute2/rt_tables)", warning: true);
            }
        }

        private static bool IsZeroKey(string base64) => WgKey.TryDecode(base64, out var k) && k.All(b => b == 0);

        /// <summary>The interface name wg-quick derives from a path: the file name without ".conf".</summary>
        internal static string InterfaceNameFromPath(string path)
        {
            if (string.IsNullOrEmpty(path)) return null;
            var name = Path.GetFileName(path);
            return name.EndsWith(".conf", StringComparison.Ordinal) ? name.Substring(0, name.Length - 5) : Path.GetFileNameWithoutExtension(name);
        }

        /// <summary>A key name for a message: shown when it looks like a name, never arbitrary text (it might be a key).</summary>
        private static string DescribeKey(string key)
        {
            if (key.Length == 0 || key.Length > 32) return "a key";
            foreach (var c in key)
                if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'))
                    return "a key";
            return "'" + key + "'";
        }

        /// <summary>Bash word splitting of wg-quick's ${value//,/ }: commas and IFS whitespace (space, tab, newline) separate.</summary>
        private static IEnumerable<string> SplitWords(string value)
        {
            int i = 0;
            bool Sep(char c) => c == ',' || c == ' ' || c == '\t' || c == '\n';
            while (i < value.Length)
            {
                while (i < value.Length && Sep(value[i])) i++;
                int start = i;
                while (i < value.Length && !Sep(value[i])) i++;
                if (i > start) yield return value.Substring(start, i - start);
            }
        }

        /// <summary>"ip[/len]" as wg reads AllowedIPs (inet_pton, decimal length), normalized to "ip/len"; null if invalid.</summary>
        internal static string ParseCidr(string text)
        {
            int slash = text.IndexOf('/');
            var ipText = slash < 0 ? text : text.Substring(0, slash);
            IPAddress ip;
            int max;
            if (ipText.IndexOf(':') >= 0) { if (!TryParseIPv6(ipText, out ip)) return null; max = 128; }
            else { if (!TryParseIPv4(ipText, out ip)) return null; max = 32; }
            long len = max;
            if (slash >= 0 && !TryParseDecimal(text.Substring(slash + 1), max, out len)) return null;
            return ip + "/" + len.ToString(CultureInfo.InvariantCulture);
        }

        /// <summary>Strict dotted quad, as inet_pton(AF_INET): four decimal parts 0-255 without leading zeros.</summary>
        internal static bool TryParseIPv4(string text, out IPAddress ip)
        {
            ip = null;
            var parts = text.Split('.');
            if (parts.Length != 4) return false;
            var bytes = new byte[4];
            for (int i = 0; i < 4; i++)
            {
                var p = parts[i];
                if (p.Length == 0 || p.Length > 3 || (p.Length > 1 && p[0] == '0')) return false;
                if (!TryParseDecimal(p, 255, out var b)) return false;
                bytes[i] = (byte)b;
            }
            ip = new IPAddress(bytes);
            return true;
        }

        /// <summary>An IPv6 literal as inet_pton(AF_INET6) takes it: no brackets, no zone index.</summary>
        internal static bool TryParseIPv6(string text, out IPAddress ip)
        {
            ip = null;
            if (text.Length == 0 || text.Length > 45) return false;
            foreach (var c in text)
                if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.'))
                    return false;
            return IPAddress.TryParse(text, out ip) && ip.AddressFamily == AddressFamily.InterNetworkV6;
        }

        /// <summary>Only ASCII digits, value at most <paramref name="max"/> (no sign, no spaces, no overflow).</summary>
        internal static bool TryParseDecimal(string text, long max, out long value)
        {
            value = 0;
            if (string.IsNullOrEmpty(text)) return false;
            foreach (var c in text)
            {
                if (c < '0' || c > '9') return false;
                value = value * 10 + (c - '0');
                if (value > max) return false;
            }
            return true;
        }

        /// <summary>wg's FwMark: off (any case), decimal, or lowercase 0x hex, at most 0xffffffff. Null if invalid.</summary>
        private static string ParseFwMark(string value)
        {
            if (RawText.EqualsIgnoreCase(value, "off")) return "off";
            if (value.Length > 2 && value[0] == '0' && value[1] == 'x')
            {
                long v = 0;
                for (int i = 2; i < value.Length; i++)
                {
                    int d = HexDigit(value[i]);
                    if (d < 0) return null;
                    v = v * 16 + d;
                    if (v > uint.MaxValue) return null;
                }
                return value;
            }
            return TryParseDecimal(value, uint.MaxValue, out _) ? value : null;
        }

        private static int HexDigit(char c)
            => c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }
}
