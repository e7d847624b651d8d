using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using WgTroubleshoot.Config;
using WgTroubleshoot.Keys;
using Version = System.Version;

namespace WgTroubleshoot.Lint
{
    /// <summary>What the rules may ask of the machine; tests replace it.</summary>
    internal interface ILintEnvironment
    {
        /// <summary>The permission bits of a file, or null when they cannot be read (Windows).</summary>
        int? FileMode(string path);

        /// <summary>True when an executable of that name is on PATH.</summary>
        bool CommandExists(string name);

        /// <summary>True on Windows (no file modes, no resolvconf).</summary>
        bool IsWindows { get; }
    }

    /// <summary>The real machine.</summary>
    internal sealed class LintEnvironment : ILintEnvironment
    {
        internal static readonly LintEnvironment Instance = new LintEnvironment();

        public int? FileMode(string path) => UnixFile.TryGetMode(path);

        public bool IsWindows => UnixFile.IsWindows;

        public bool CommandExists(string name)
        {
            var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
            foreach (var dir in path.Split(Path.PathSeparator))
            {
                if (dir.Length == 0) continue;
                try
                {
                    if (File.Exists(Path.Combine(dir, name))) return true;
                }
                catch (ArgumentException) { /* a malformed PATH entry */ }
            }
            return false;
        }
    }

    /// <summary>
    /// One configuration file as the rules see it: its lines, the parsed configuration (null when it does not
    /// parse), the parse error, and the secrets it holds so that no finding can show them.
    /// </summary>
    internal sealed class LintFile
    {
        private readonly HashSet<string> _secrets = new HashSet<string>(StringComparer.Ordinal);

        private LintFile(string path, WgConfigDocument document, ILintEnvironment environment, WgParseOptions options)
        {
            Path = path;
            Document = document;
            Environment = environment ?? LintEnvironment.Instance;
            Interface = WgConfigParser.InterfaceNameFromPath(path);
            var result = WgConfigParser.ParseAll(document, options);
            Config = result.Config;
            ParseErrors = result.Errors;
            ParseError = result.Errors.Count > 0 ? result.Errors[0] : null;
            Notes = result.Notes;
            ToolsVersion = (result.Config ?? result.PartialConfig)?.ToolsVersionRead ?? WgToolsVersion.Effective(options?.ToolsVersion);
            CollectSecrets();
        }

        /// <summary>Reads a file; a missing or unreadable file is a WgException (an error, not a finding).</summary>
        internal static LintFile Read(string path, ILintEnvironment environment = null, WgParseOptions options = null)
            => new LintFile(path, WgConfigFile.ReadDocument(path), environment, options);

        /// <summary>A file from bytes (tests; <paramref name="path"/> names it).</summary>
        internal static LintFile FromBytes(byte[] bytes, string path, ILintEnvironment environment = null, WgParseOptions options = null)
            => new LintFile(path, WgConfigDocument.Parse(bytes, path), environment, options);

        /// <summary>Every problem that makes wg or wg-quick reject the file, one per line, in line order.</summary>
        internal IReadOnlyList<WgConfigParseException> ParseErrors { get; }

        /// <summary>Values that wg or wg-quick read differently from how they look.</summary>
        internal IReadOnlyList<WgReadNote> Notes { get; }

        /// <summary>The wireguard-tools version whose rules the file was read by.</summary>
        internal Version ToolsVersion { get; }

        /// <summary>
        /// A fragment for `wg addconf`/`wg syncconf` rather than a wg-quick file: it has no [Interface] section.
        /// Rules about the interface (private key, address, who starts the handshake) do not apply to it.
        /// </summary>
        internal bool IsFragment => Config != null && Config.InterfaceLine == 0;

        /// <summary>Memo of the AllowedIPs overlaps (computed once per file).</summary>
        internal object OverlapCache { get; set; }

        private HashSet<string> _shownKeys;

        /// <summary>
        /// The last guard before text leaves in a finding: secrets replaced, then every other key-like run hidden
        /// unless it is a public key of this file (or of <paramref name="other"/>) or part of a file path.
        /// </summary>
        internal string Clean(string text, LintFile other = null)
        {
            if (string.IsNullOrEmpty(text)) return text;
            text = Redact(text);
            if (other != null) text = other.Redact(text);
            if (!KeyRedactor.HasKeyLikeRun(text) && _secrets.Count == 0 && (other == null || other._secrets.Count == 0)) return text;
            var shown = ShownKeys();
            ICollection<string> allowed = shown;
            if (other != null) { var both = new HashSet<string>(shown, StringComparer.Ordinal); both.UnionWith(other.ShownKeys()); allowed = both; }
            var secrets = other == null ? (IEnumerable<string>)_secrets : _secrets.Concat(other._secrets);
            return KeyRedactor.Scrub(text, allowed, secrets, other == null ? new[] { Path } : new[] { Path, other.Path });
        }

        private HashSet<string> ShownKeys()
        {
            if (_shownKeys != null) return _shownKeys;
            var keys = new HashSet<string>(StringComparer.Ordinal);
            var c = Config;
            if (c != null)
            {
                if (c.PublicKey != null) keys.Add(c.PublicKey);
                foreach (var p in c.Peers) if (p.PublicKey != null && !IsSecret(p.PublicKey)) keys.Add(p.PublicKey);
            }
            return _shownKeys = keys;
        }

        internal string Path { get; }
        internal string Interface { get; }
        internal WgConfigDocument Document { get; }
        internal WgConfig Config { get; }
        internal WgConfigParseException ParseError { get; }
        internal ILintEnvironment Environment { get; }

        /// <summary>The files linted before this one in the same run (for rules across files).</summary>
        internal IReadOnlyList<LintFile> Earlier { get; set; } = Array.Empty<LintFile>();

        /// <summary>The 1-based line of the [Interface] header (1 when the file has none).</summary>
        internal int InterfaceLine => Config != null && Config.InterfaceLine > 0 ? Config.InterfaceLine : 1;

        /// <summary>A server: it listens on a fixed port and has peers that it cannot reach first (no Endpoint).</summary>
        internal bool IsServer => Config != null && Config.ListenPort.GetValueOrDefault() != 0 && Config.Peers.Any(p => p.Endpoint == null);

        /// <summary>True when the text is one of this file's private or preshared keys.</summary>
        internal bool IsSecret(string value) => value != null && _secrets.Contains(value);

        /// <summary>"[Peer] 'laptop' (line 12)" or "[Peer] AbCdEfGh… (line 12)"; never shows a secret.</summary>
        internal string Label(WgConfigPeer peer)
        {
            if (peer.Name != null) return $"[Peer] '{peer.Name}' (line {peer.Line})";
            if (IsSecret(peer.PublicKey)) return $"[Peer] at line {peer.Line}";
            return $"[Peer] {WgKey.Short(peer.PublicKey)} (line {peer.Line})";
        }

        /// <summary>Text with every secret of the file replaced; the last guard before a finding leaves the module.</summary>
        internal string Redact(string text)
        {
            if (string.IsNullOrEmpty(text)) return text;
            foreach (var s in _secrets) text = text.Replace(s, "(secret)");
            return text;
        }

        /// <summary>
        /// Every PrivateKey and PresharedKey value as the lines hold them (valid or not, parsed or not): a
        /// malformed key is still secret (values under 8 characters are too short to hide and would blank out ordinary text).
        /// </summary>
        private void CollectSecrets()
        {
            foreach (var line in Document.Lines)
                if ((line.HasKey("PrivateKey") || line.HasKey("PresharedKey")) && line.Value != null && line.Value.Length >= 8)
                    _secrets.Add(RawText.ToDisplay(line.Value));
        }
    }
}
