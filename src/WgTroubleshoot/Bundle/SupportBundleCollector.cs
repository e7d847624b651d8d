using System;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Threading;
using WgTroubleshoot.Config;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Firewall;
using WgTroubleshoot.Forwarding;
using WgTroubleshoot.Json;
using WgTroubleshoot.Keys;
using WgTroubleshoot.Logs;
using WgTroubleshoot.Native;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Bundle
{
    /// <summary>What Export-WgSupportBundle was asked to collect.</summary>
    internal sealed class SupportBundleOptions
    {
        /// <summary>Interface names (wildcards allowed); every interface when null.</summary>
        public string[] Interfaces { get; set; }
        /// <summary>Log events since this time.</summary>
        public DateTime Since { get; set; }
        public string ModuleVersion { get; set; }
        public string PowerShellVersion { get; set; }
        public string PowerShellEdition { get; set; }
        /// <summary>Diagnosis sampling; tests shorten it.</summary>
        public int SampleSeconds { get; set; } = 3;
        public int TraceSeconds { get; set; } = 6;
    }

    /// <summary>
    /// Collects everything a helper asks for about this host's WireGuard setup into one JSON text: versions,
    /// live interfaces and peers, configuration files with their secrets redacted, firewall, forwarding, recent
    /// log events and the diagnosis. A section that cannot be collected holds {"Error": message} instead;
    /// nothing here aborts the bundle. Before the text is returned, every private and preshared key the module
    /// can see is searched for (base64 and hex) and replaced, and so is every other token anywhere in the text
    /// that decodes as a 32-byte key (base64 with or without padding, URL-safe base64, hex) unless it is a public
    /// key known from a configuration or the live state. The bundle's Redactions field counts every key removed
    /// outside the PrivateKey/PresharedKey lines (those are redacted in place and not counted), including keys
    /// taken out of peer names.
    /// </summary>
    internal sealed class SupportBundleCollector
    {
        internal const string FormatName = "WgTroubleshoot.SupportBundle/1";

        private static readonly string[][] ToolVersionCommands =
        {
            new[] { "wg", "--version" },
            new[] { "ip", "-V" },
            new[] { "nft", "--version" },
            new[] { "iptables", "-V" },
            new[] { "tcpdump", "--version" },
        };

        private readonly INativeRunner _runner;
        private readonly Action<string> _verbose;
        private readonly Action<string, int> _progress;
        private readonly CancellationToken _cancel;
        private readonly List<string> _secrets = new List<string>();
        private readonly HashSet<string> _publicKeyIds = new HashSet<string>(StringComparer.Ordinal);
        private int _lineRedactions;
        private readonly List<string> _notes = new List<string>();

        public SupportBundleCollector(INativeRunner runner, Action<string> verbose = null, Action<string, int> progress = null, CancellationToken cancel = default(CancellationToken))
        {
            _runner = runner;
            _verbose = verbose ?? (_ => { });
            _progress = progress ?? ((_, __) => { });
            _cancel = cancel;
        }

        /// <summary>Number of secret occurrences the final scan replaced in the last <see cref="Collect"/>.</summary>
        public int Redactions { get; private set; }

        /// <summary>Collects the bundle and returns its JSON text (indented, secrets removed).</summary>
        public string Collect(SupportBundleOptions options)
        {
            var bundle = new OrderedDictionary
            {
                ["Format"] = FormatName,
                ["Created"] = DateTime.UtcNow,
                ["Request"] = new OrderedDictionary { ["Interfaces"] = options.Interfaces, ["Since"] = options.Since.ToUniversalTime() },
                ["Module"] = new OrderedDictionary { ["Name"] = "WgTroubleshoot", ["Version"] = options.ModuleVersion },
                ["PowerShell"] = new OrderedDictionary { ["Version"] = options.PowerShellVersion, ["Edition"] = options.PowerShellEdition },
            };

            _progress("System and tool versions", 0);
            bundle["System"] = Section("System", SystemInfo);
            bundle["Tools"] = Section("Tools", ToolVersions);

            _progress("Interfaces and peers", 10);
            List<WgDevice> devices = null;
            bundle["Interfaces"] = Section("Interfaces", () =>
            {
                var reader = new WgStateReader(_runner);
                devices = reader.Read(options.Interfaces, ex => _notes.Add(ex.Message));
                reader.AddLinkDetails(devices);
                foreach (var d in devices) WgStateReader.AddPeerNames(d, _notes.Add);
                return devices.Select(d => d.Interface).ToList();
            });
            bundle["Peers"] = devices == null
                ? bundle["Interfaces"]
                : devices.SelectMany(d => d.Peers).ToList();

            _progress("Configuration files", 20);
            bundle["Configs"] = Section("Configs", () => Configs(options, devices));
            CollectAllConfigSecrets();

            _progress("Firewall", 30);
            bundle["Firewall"] = Section("Firewall", () => FirewallSection(devices));
            _progress("Forwarding", 40);
            bundle["Forwarding"] = Section("Forwarding", () => ForwardingSection(devices));
            _progress("Log events", 50);
            bundle["Logs"] = Logs(options);

            _progress("Diagnosis", 60);
            Checks.DiagnosisResult diagnosis = null;
            bundle["Diagnosis"] = Section("Diagnosis", () =>
            {
                var request = new Snapshot.SnapshotRequest { Interfaces = options.Interfaces, SampleSeconds = options.SampleSeconds, TraceSeconds = options.TraceSeconds };
                diagnosis = Checks.HostDiagnosis.Run(_runner, request, ex => _notes.Add("Diagnosis: " + ex.Message), _verbose,
                    (what, pct) => _progress("Diagnosis: " + what, 60 + pct * 35 / 100), _cancel);
                _secrets.AddRange(diagnosis.Secrets);
                return diagnosis.Findings;
            });
            // The host snapshot the diagnosis judged: Invoke-WgDiagnosis -Snapshot <bundle> replays it anywhere.
            bundle["Snapshot"] = diagnosis != null ? Snapshot.SnapshotJson.ToTree(diagnosis.Snapshot) : ErrorSection("The diagnosis did not run, so there is no snapshot.");
            bundle["Notes"] = _notes;

            _progress("Removing secrets", 98);
            // Public keys stay readable; a secret's bytes never count as public, whatever line held them.
            if (devices != null)
                foreach (var d in devices)
                {
                    AddPublic(d.Interface.PublicKey);
                    foreach (var p in d.Peers) AddPublic(p.PublicKey);
                }
            foreach (var s in _secrets) { var id = KeyRedactor.KeyId(s); if (id != null) _publicKeyIds.Remove(id); }
            bundle["Redactions"] = 0;
            int found = Clean(Serialize(bundle), out var first);
            // every (redacted) but the values of the PrivateKey/PresharedKey lines: keys the last pass found and
            // keys already taken out of peer names (which come from comments) when the configs were read
            int count = Math.Max(found, CountMarkers(first) - _lineRedactions);
            bundle["Redactions"] = count;
            Clean(Serialize(bundle), out var text);
            Redactions = count;
            _progress("Done", 100);
            return text;
        }

        private void AddPublic(string key)
        {
            var id = KeyRedactor.KeyId(key);
            if (id != null) _publicKeyIds.Add(id);
        }

        /// <summary>
        /// The last pass over the whole bundle text: every form of every known secret, then every other token
        /// that decodes as a 32-byte key and is not a known public key. Returns how many were replaced.
        /// </summary>
        private int Clean(string text, out string cleaned)
        {
            var scrubbed = Redaction.Scrub(text, _secrets, out var known);
            cleaned = KeyRedactor.RedactKeyTokens(scrubbed, _publicKeyIds, out var tokens);
            return known + tokens;
        }

        private static int CountMarkers(string text)
        {
            int n = 0;
            for (int at = text.IndexOf(Redaction.Marker, StringComparison.Ordinal); at >= 0; at = text.IndexOf(Redaction.Marker, at + 1, StringComparison.Ordinal)) n++;
            return n;
        }

        private static string Serialize(object bundle) => new JsonWriter().WriteValue(bundle).ToString() + "\n";

        /// <summary>Runs one section; a failure becomes {"Error": message}.</summary>
        private object Section(string name, Func<object> collect)
        {
            if (_cancel.IsCancellationRequested) return ErrorSection("Stopped before this section was collected.");
            try
            {
                return collect();
            }
            catch (Exception ex) when (ex is WgException || ex is IOException || ex is UnauthorizedAccessException
                                       || ex is InvalidOperationException || ex is ArgumentException || ex is FormatException)
            {
                _verbose($"Support bundle: {name} could not be collected: {ex.Message}");
                return ErrorSection(ex.Message);
            }
        }

        private static OrderedDictionary ErrorSection(string message) => new OrderedDictionary { ["Error"] = message };

        private object SystemInfo()
        {
            var info = new OrderedDictionary
            {
                ["OSDescription"] = RuntimeInformation.OSDescription.Trim(),
                ["OSArchitecture"] = RuntimeInformation.OSArchitecture.ToString(),
                ["ProcessArchitecture"] = RuntimeInformation.ProcessArchitecture.ToString(),
                ["Framework"] = RuntimeInformation.FrameworkDescription,
                ["Kernel"] = null,
            };
            if (_runner.IsAvailable("uname"))
            {
                try
                {
                    var r = _runner.Run("uname", new[] { "-a" });
                    info["Kernel"] = r.Success ? r.StdOut.Trim() : null;
                    if (!r.Success) info["KernelError"] = r.StdErr.Trim();
                }
                catch (WgException ex)
                {
                    info["KernelError"] = ex.Message;
                }
            }
            if (info["Kernel"] == null) info["Kernel"] = RuntimeInformation.OSDescription.Trim();
            return info;
        }

        private object ToolVersions()
        {
            var tools = new List<object>();
            foreach (var cmd in ToolVersionCommands)
            {
                var tool = cmd[0] == "wg" ? WgStateReader.WgTool : cmd[0];
                var entry = new OrderedDictionary { ["Tool"] = cmd[0], ["Command"] = NativeRunner.FormatCommandLine(cmd[0], cmd.Skip(1)) };
                if (!_runner.IsAvailable(tool))
                {
                    entry["Available"] = false;
                    tools.Add(entry);
                    continue;
                }
                entry["Available"] = true;
                try
                {
                    var r = _runner.Run(tool, cmd.Skip(1));
                    // some tools (tcpdump, older iptables) print their version on stderr
                    var output = (r.StdOut.Trim() + "\n" + r.StdErr.Trim()).Trim();
                    entry["ExitCode"] = r.ExitCode;
                    entry["Output"] = output;
                }
                catch (WgException ex)
                {
                    entry["Error"] = ex.Message;
                }
                tools.Add(entry);
            }
            return tools;
        }

        private object Configs(SupportBundleOptions options, List<WgDevice> devices)
        {
            var names = new List<string>();
            if (devices != null) names.AddRange(devices.Select(d => d.Interface.Name));
            if (options.Interfaces != null)
                names.AddRange(options.Interfaces.Where(n => !WildcardPattern.ContainsWildcardCharacters(n)));
            var configs = new List<object>();
            foreach (var name in names.Distinct(StringComparer.Ordinal))
            {
                var path = WgConfigLocation.PathForConfigOrNull(name);
                var entry = new OrderedDictionary { ["Interface"] = name, ["Path"] = path };
                if (path == null || !File.Exists(path))
                {
                    entry["Error"] = path == null ? $"'{name}' is not a name wg-quick accepts: no configuration file." : $"No configuration file {path}.";
                    configs.Add(entry);
                    continue;
                }
                try
                {
                    var bytes = File.ReadAllBytes(path);
                    var doc = WgConfigDocument.Parse(bytes, path);
                    _secrets.AddRange(Redaction.SecretsOf(doc));
                    foreach (var id in Redaction.PublicKeysOf(doc)) _publicKeyIds.Add(id);
                    _lineRedactions += Redaction.RedactDocument(doc);
                    entry["Text"] = new System.Text.UTF8Encoding(false, false).GetString(doc.ToBytes());
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
                {
                    entry["Error"] = $"{path} could not be read: {ex.Message}";
                }
                configs.Add(entry);
            }
            return configs;
        }

        /// <summary>Secrets of every configuration file this host has, not only the ones in the bundle.</summary>
        private void CollectAllConfigSecrets()
        {
            try
            {
                foreach (var path in WgConfigLocation.EnumerateConfigFiles(null))
                {
                    try
                    {
                        var doc = WgConfigDocument.Parse(File.ReadAllBytes(path), path);
                        _secrets.AddRange(Redaction.SecretsOf(doc));
                        foreach (var id in Redaction.PublicKeysOf(doc)) _publicKeyIds.Add(id);
                    }
                    catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
                    {
                        _verbose($"Support bundle: {path} was not read for the secret scan: {ex.Message}");
                    }
                }
            }
            catch (WgException ex)
            {
                _verbose("Support bundle: the configuration directory was not read for the secret scan: " + ex.Message);
            }
        }

        private object FirewallSection(List<WgDevice> devices)
        {
            var targets = new FirewallTargets(_runner);
            var underlay = targets.Underlay();
            var snapshots = new FirewallInspector(_runner).ReadAll(underlay);
            var result = new List<FirewallStatus>();
            var listening = (devices ?? new List<WgDevice>()).Where(d => d.Interface.ListenPort.HasValue).ToList();
            foreach (var d in listening)
                result.AddRange(FirewallStatusBuilder.Build(snapshots,
                    new FirewallQuery { Port = d.Interface.ListenPort.Value, Interface = d.Interface.Name, Underlay = underlay }));
            if (listening.Count == 0) _notes.Add("Firewall: no WireGuard interface with a listen port, so no port was checked.");
            return result;
        }

        private object ForwardingSection(List<WgDevice> devices)
        {
            var reader = new ForwardingReader(_runner);
            var result = new List<ForwardingStatus>();
            if (devices == null || devices.Count == 0)
                result.Add(ForwardingEvaluator.Evaluate(reader.Read(null, new List<string>())));
            else
                foreach (var d in devices)
                    result.Add(ForwardingEvaluator.Evaluate(reader.Read(d.Interface.Name, d.Interface.Addresses)));
            return result;
        }

        private object Logs(SupportBundleOptions options)
        {
            var section = new OrderedDictionary { ["Since"] = options.Since.ToUniversalTime(), ["Source"] = null, ["Events"] = new List<WgLogEvent>() };
            try
            {
                var reader = new WgLogReader(_runner, _verbose);
                var events = reader.ReadSystem(options.Since);
                if (options.Interfaces != null)
                {
                    var patterns = options.Interfaces.Select(i => new WildcardPattern(i, WildcardOptions.IgnoreCase)).ToList();
                    events = events.Where(e => patterns.Any(p => p.IsMatch(e.Interface ?? ""))).ToList();
                }
                section["Source"] = reader.LastSource;
                section["Events"] = events;
            }
            catch (Exception ex) when (ex is WgException || ex is IOException || ex is UnauthorizedAccessException || ex is InvalidOperationException)
            {
                section["Note"] = "The logs could not be read: " + ex.Message;
            }
            return section;
        }
    }
}
