using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using WgTroubleshoot.Config;
using WgTroubleshoot.Keys;

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

        private LintFile(string path, WgConfigDocument document, ILintEnvironment environment)
        {
            Path = path;
            Document = document;
            Environment = environment ?? LintEnvironment.Instance;
            Interface = WgConfigParser.InterfaceNameFromPath(path);
            try
            {
                Config = WgConfigParser.Parse(document);
            }
            catch (WgConfigParseException ex)
            {
                ParseError = ex;
            }
            CollectSecrets();
        }

        /// <summary>Reads a file; a missing or unreadable file is a WgException (an error, not a finding).</summary>
        internal static LintFile Read(string path, ILintEnvironment environment = null)
            => new LintFile(path, WgConfigFile.ReadDocument(path), environment);

        /// <summary>A file from bytes (tests; <paramref name="path"/> names it).</summary>
        internal static LintFile FromBytes(byte[] bytes, string path, ILintEnvironment environment = null)
            => new LintFile(path, WgConfigDocument.Parse(bytes, path), environment);

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
