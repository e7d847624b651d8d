using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using WgTroubleshoot.Keys;

namespace WgTroubleshoot.Config
{
    /// <summary>
    /// Reads a <see cref="WgConfigDocument"/> the way `wg-quick up` does, checked against wireguard-tools:
    /// wg-quick takes its own keys (Address, DNS, MTU, Table, PreUp, PostUp, PreDown, PostDown, SaveConfig)
    /// out of the [Interface] section, with the value trimmed and cut at the first '#' (hooks included), and
    /// hands every other line to `wg setconf`, which drops comments and all whitespace, matches section and
    /// key names case-insensitively and rejects anything it does not know. Whatever either tool rejects is
    /// a <see cref="WgConfigParseException"/>; no other exception leaves <see cref="Parse"/>.
    /// </summary>
    internal static class WgConfigParser
    {
        private enum Section { None, Interface, Peer }

        private static readonly string[] QuickKeys = { "Address", "DNS", "MTU", "Table", "PreUp", "PostUp", "PreDown", "PostDown", "SaveConfig" };

        /// <summary>Reads and parses a file. Missing file, permission and I/O problems become WgExceptions.</summary>
        internal static WgConfig ParseFile(string path) => Parse(WgConfigFile.ReadDocument(path));

        /// <summary>Parses bytes (the file name in <paramref name="path"/> names the interface and the messages).</summary>
        internal static WgConfig Parse(byte[] bytes, string path) => Parse(WgConfigDocument.Parse(bytes, path));

        /// <summary>Parses a document; throws only <see cref="WgConfigParseException"/>.</summary>
        internal static WgConfig Parse(WgConfigDocument doc)
        {
            var state = new ParseState(doc);
            try
            {
                if (doc.HasByteOrderMark)
                    throw state.Error(1, "the file starts with a UTF-8 byte order mark (BOM); wg rejects the line (\"Line unrecognized\"). Save the file as UTF-8 without BOM.");
                for (int i = 0; i < doc.Lines.Count; i++) state.ReadLine(i + 1, doc.Lines[i]);
                return state.Finish();
            }
            catch (WgConfigParseException)
            {
                throw;
            }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                // A bug in this parser must still surface as the documented error, never as a stray exception.
                throw state.Error(Math.Max(1, state.LineNumber), "the line could not be read (" + ex.GetType().Name + ").");
            }
        }

        private sealed class ParseState
        {
            private readonly WgConfigDocument _doc;
            private readonly WgConfig _config;
            private readonly List<string> _address = new List<string>(), _dns = new List<string>();
            private readonly List<string> _preUp = new List<string>(), _postUp = new List<string>(), _preDown = new List<string>(), _postDown = new List<string>();
            private readonly List<WgConfigPeer> _peers = new List<WgConfigPeer>();
            private readonly List<List<string>> _peerIps = new List<List<string>>();
            private readonly List<List<int>> _peerIpLines = new List<List<int>>();
            private bool _quickInterface;   // wg-quick's idea of "in [Interface]"
            private Section _section;       // wg's idea of the current section
            internal int LineNumber;

            internal ParseState(WgConfigDocument doc)
            {
                _doc = doc;
                var path = doc.Path;
                _config = new WgConfig { Path = path, Interface = InterfaceNameFromPath(path) };
            }

            internal WgConfigParseException Error(int line, string problem) => new WgConfigParseException(_doc.Path, line, problem);

            private WgConfigParseException Error(string problem) => Error(LineNumber, problem);

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
                    _peers.Add(new WgConfigPeer { Interface = _config.Interface, Path = _doc.Path, Line = number, Name = Bundle.Redaction.RedactKeyTokens(NameAbove(number)) }); // a key in a comment never becomes a name
                    _peerIps.Add(new List<string>());
                    _peerIpLines.Add(new List<int>());
                    return;
                }
                if (line.IsSectionHeader)
                    throw Error($"unknown section '{RawText.ForMessage(line.Compact)}': wg knows only [Interface] and [Peer].");
                if (line.Key == null)
                    throw Error("the line is neither a section header, a comment, nor 'Key = Value'.");
                var key = line.Key;
                if (_section == Section.None)
                    throw Error($"{DescribeKey(key)} is outside any section; put it under [Interface] or [Peer].");
                if (line.Value.Length == 0)
                    throw Error($"{DescribeKey(key)} has no value.");
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
                switch (key)
                {
                    case "Address":
                        foreach (var item in SplitWords(value))
                            _address.Add(ParseCidr(item) ?? throw Error($"Address '{RawText.ForMessage(item)}' is not an IP address with an optional /prefix length."));
                        break;
                    case "DNS":
                        foreach (var item in SplitWords(value)) _dns.Add(RawText.ToDisplay(item));
                        break;
                    case "MTU":
                        if (value.Length == 0) { _config.Mtu = null; break; }
                        if (!TryParseDecimal(value, int.MaxValue, out var mtu))
                            throw Error($"MTU '{RawText.ForMessage(value)}' is not a whole number.");
                        _config.Mtu = (int)mtu;
                        break;
                    case "Table":
                        if (value.Length == 0) { _config.Table = null; break; }
                        if (!IsTableValue(value))
                            throw Error($"Table '{RawText.ForMessage(value)}' is not off, auto, a table number or a table name.");
                        _config.Table = value;
                        break;
                    case "SaveConfig":
                        if (RawText.EqualsIgnoreCase(value, "true")) _config.SaveConfig = true;
                        else if (RawText.EqualsIgnoreCase(value, "false")) _config.SaveConfig = false;
                        else throw Error($"SaveConfig '{RawText.ForMessage(value)}' is neither true nor false.");
                        break;
                    case "PreUp": _preUp.Add(RawText.ToDisplay(value)); break;
                    case "PostUp": _postUp.Add(RawText.ToDisplay(value)); break;
                    case "PreDown": _preDown.Add(RawText.ToDisplay(value)); break;
                    case "PostDown": _postDown.Add(RawText.ToDisplay(value)); break;
                }
                return true;
            }

            private void ReadInterfaceKey(string key, string value)
            {
                RecordLine(_config.KeyLines, key, "PrivateKey", "ListenPort", "FwMark");
                if (RawText.EqualsIgnoreCase(key, "PrivateKey"))
                {
                    if (!WgKey.IsValid(value)) throw Error("PrivateKey is not a valid key (base64 of 32 bytes, 44 characters ending in '=').");
                    _config.PrivateKeyValue = value;
                }
                else if (RawText.EqualsIgnoreCase(key, "ListenPort"))
                {
                    if (!TryParseDecimal(value, 65535, out var port))
                        throw Error($"ListenPort '{RawText.ForMessage(value)}' is not a port number (0-65535).");
                    _config.ListenPort = (int)port;
                }
                else if (RawText.EqualsIgnoreCase(key, "FwMark"))
                {
                    _config.FwMark = ParseFwMark(value) ?? throw Error($"FwMark '{RawText.ForMessage(value)}' is neither off nor a number 0-0xffffffff.");
                }
                else
                {
                    throw Error($"unknown key {DescribeKey(key)} in [Interface]: wg accepts PrivateKey, ListenPort and FwMark, wg-quick adds Address, DNS, MTU, Table, PreUp, PostUp, PreDown, PostDown and SaveConfig.");
                }
            }

            private void ReadPeerKey(string key, string value)
            {
                var peer = _peers[_peers.Count - 1];
                RecordLine(peer.KeyLines, key, "PublicKey", "PresharedKey", "AllowedIPs", "Endpoint", "PersistentKeepalive");
                if (RawText.EqualsIgnoreCase(key, "PublicKey"))
                {
                    if (!WgKey.IsValid(value)) throw Error("PublicKey is not a valid key (base64 of 32 bytes, 44 characters ending in '=').");
                    peer.PublicKey = value;
                }
                else if (RawText.EqualsIgnoreCase(key, "PresharedKey"))
                {
                    if (!WgKey.IsValid(value)) throw Error("PresharedKey is not a valid key (base64 of 32 bytes, 44 characters ending in '=').");
                    peer.PresharedKeyValue = value;
                }
                else if (RawText.EqualsIgnoreCase(key, "AllowedIPs"))
                {
                    foreach (var item in value.Split(','))
                    {
                        _peerIps[_peerIps.Count - 1].Add(ParseCidr(item)
                            ?? throw Error($"AllowedIPs entry '{RawText.ForMessage(item)}' is not an IP address with an optional /prefix length."));
                        _peerIpLines[_peerIpLines.Count - 1].Add(LineNumber);
                    }
                }
                else if (RawText.EqualsIgnoreCase(key, "Endpoint"))
                {
                    ParseEndpoint(value, out var host, out var port);
                    peer.Endpoint = RawText.ToDisplay(value);
                    peer.EndpointHost = RawText.ToDisplay(host);
                    peer.EndpointPort = port;
                }
                else if (RawText.EqualsIgnoreCase(key, "PersistentKeepalive"))
                {
                    if (RawText.EqualsIgnoreCase(value, "off")) peer.PersistentKeepalive = null;
                    else if (TryParseDecimal(value, 65535, out var ka)) peer.PersistentKeepalive = (int)ka;
                    else throw Error($"PersistentKeepalive '{RawText.ForMessage(value)}' is neither off nor 0-65535 seconds.");
                }
                else
                {
                    throw Error($"unknown key {DescribeKey(key)} in [Peer]: wg accepts PublicKey, PresharedKey, AllowedIPs, Endpoint and PersistentKeepalive.");
                }
            }

            /// <summary>Remembers the line of a known key under its canonical spelling (unknown keys are rejected elsewhere).</summary>
            private void RecordLine(Dictionary<string, int> lines, string key, params string[] known)
            {
                foreach (var k in known)
                    if (RawText.EqualsIgnoreCase(key, k)) lines[k] = LineNumber;
            }

            /// <summary>wg: "[ip]:port" or "host:port" split at the last colon; a host with a colon must be an IPv6 literal.</summary>
            private void ParseEndpoint(string value, out string host, out int port)
            {
                string portText;
                if (value.StartsWith("[", StringComparison.Ordinal))
                {
                    int close = value.IndexOf(']');
                    if (close < 0) throw Error($"Endpoint '{RawText.ForMessage(value)}' has no closing ']'.");
                    host = value.Substring(1, close - 1);
                    if (close + 1 >= value.Length || value[close + 1] != ':' || close + 2 >= value.Length)
                        throw Error($"Endpoint '{RawText.ForMessage(value)}' has no port; write [address]:port.");
                    portText = value.Substring(close + 2);
                }
                else
                {
                    int colon = value.LastIndexOf(':');
                    if (colon < 0 || colon == value.Length - 1)
                        throw Error($"Endpoint '{RawText.ForMessage(value)}' has no port; write host:port or [IPv6]:port.");
                    host = value.Substring(0, colon);
                    portText = value.Substring(colon + 1);
                    if (host.IndexOf(':') >= 0 && !TryParseIPv6(host, out _))
                        throw Error($"Endpoint '{RawText.ForMessage(value)}' looks like an IPv6 address without brackets; write [address]:port.");
                }
                if (host.Length == 0) throw Error($"Endpoint '{RawText.ForMessage(value)}' has no host.");
                if (!TryParseDecimal(portText, 65535, out var p))
                    throw Error($"Endpoint '{RawText.ForMessage(value)}' has no valid port (0-65535).");
                port = (int)p;
            }

            /// <summary>The peer name: a comment on the line directly above the [Peer] header.</summary>
            private string NameAbove(int headerLine)
            {
                if (headerLine < 2) return null;
                var above = _doc.Lines[headerLine - 2];
                if (!above.IsComment) return null;
                var text = RawText.Trim(above.Content).TrimStart('#');
                text = RawText.Trim(text);
                return text.Length == 0 ? null : RawText.ToDisplay(text);
            }

            internal WgConfig Finish()
            {
                for (int i = 0; i < _peers.Count; i++)
                {
                    if (_peers[i].PublicKey == null)
                        throw Error(_peers[i].Line, "this [Peer] section has no PublicKey (wg: \"A peer is missing a public key\").");
                    _peers[i].HasPresharedKey = _peers[i].PresharedKeyValue != null;
                    _peers[i].AllowedIPs = _peerIps[i].ToArray();
                    _peers[i].AllowedIPsLines = _peerIpLines[i].ToArray();
                }
                _config.HasPrivateKey = _config.PrivateKeyValue != null;
                _config.PublicKey = WgKey.PublicFromPrivate(_config.PrivateKeyValue);
                _config.Address = _address.ToArray();
                _config.Dns = _dns.ToArray();
                _config.PreUp = _preUp.ToArray();
                _config.PostUp = _postUp.ToArray();
                _config.PreDown = _preDown.ToArray();
                _config.PostDown = _postDown.ToArray();
                _config.Peers = _peers.ToArray();
                return _config;
            }
        }

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

        /// <summary>Bash word splitting of wg-quick's ${value//,/ }: commas and whitespace separate.</summary>
        private static IEnumerable<string> SplitWords(string value)
        {
            int i = 0;
            while (i < value.Length)
            {
                while (i < value.Length && (value[i] == ',' || RawText.IsSpace(value[i]))) i++;
                int start = i;
                while (i < value.Length && value[i] != ',' && !RawText.IsSpace(value[i])) i++;
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

        /// <summary>wg-quick's Table: off, auto, a number, or a name from rt_tables.</summary>
        private static bool IsTableValue(string value)
        {
            foreach (var c in value)
                if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'))
                    return false;
            return true;
        }
    }
}
