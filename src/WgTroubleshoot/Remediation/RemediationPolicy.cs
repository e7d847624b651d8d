using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text;
using System.Text.RegularExpressions;
using WgTroubleshoot.Config;
using WgTroubleshoot.Loading;

namespace WgTroubleshoot.Remediation
{
    /// <summary>A repair the policy can allow for an interface.</summary>
    public enum RepairKind
    {
        /// <summary>Open the WireGuard UDP port in the host firewall.</summary>
        Firewall,
        /// <summary>Set the interface MTU.</summary>
        Mtu,
        /// <summary>Turn IP forwarding on.</summary>
        Forwarding,
        /// <summary>Add masquerading for traffic from the tunnel.</summary>
        Nat,
        /// <summary>Set a peer's endpoint again from its host name.</summary>
        Endpoint,
        /// <summary>Bring a WireGuard interface that is administratively down up again.</summary>
        Link,
        /// <summary>Set PersistentKeepalive for a peer, on the side behind a NAT (live and in the configuration).</summary>
        Keepalive,
    }

    /// <summary>The format of the report a remediation run writes.</summary>
    public enum PolicyReportFormat
    {
        /// <summary>YAML (the default).</summary>
        Yaml,
        /// <summary>JSON.</summary>
        Json,
    }

    /// <summary>The desired state of one WireGuard interface, and what may be repaired on it without asking.</summary>
    public sealed class InterfacePolicy
    {
        /// <summary>The default handshake age limit: WireGuard's Reject-After-Time, after which a session is unusable.</summary>
        public const int DefaultMaxHandshakeAgeSeconds = 180;

        /// <summary>The default number of repairs per hour and interface.</summary>
        public const int DefaultMaxRepairsPerHour = 3;

        /// <summary>The interface name (wg0).</summary>
        public string Interface { get; internal set; }

        /// <summary>A peer whose latest handshake is older than this (seconds) counts as down.</summary>
        public int MaxHandshakeAgeSeconds { get; internal set; } = DefaultMaxHandshakeAgeSeconds;

        /// <summary>True for "mtu: auto": the MTU follows the path MTU. False with <see cref="Mtu"/> null: the MTU is left alone.</summary>
        public bool MtuAuto { get; internal set; }

        /// <summary>A fixed MTU the interface must have; null when the policy says auto or nothing.</summary>
        public int? Mtu { get; internal set; }

        /// <summary>True: IP forwarding must be on; false: it must be off; null: not checked.</summary>
        public bool? Forwarding { get; internal set; }

        /// <summary>True: traffic from the tunnel must be masqueraded; false: it must not; null: not checked.</summary>
        public bool? Nat { get; internal set; }

        /// <summary>The UDP port the host firewall must let in; null: not checked.</summary>
        public int? FirewallPort { get; internal set; }

        /// <summary>True: endpoints given as host names are resolved again, as wireguard-tools' reresolve-dns does.</summary>
        public bool? ReresolveEndpoints { get; internal set; }

        /// <summary>
        /// firewall: { acceptTunnelInput: true }: TunnelInputBlocked is repaired (an accept for the tunnel interface in
        /// the input chains that drop it). Without it the finding is only reported, whatever allowedRepairs says.
        /// </summary>
        public bool? AcceptTunnelInput { get; internal set; }

        /// <summary>The repairs that may run without asking; empty: report only.</summary>
        public RepairKind[] AllowedRepairs { get; internal set; } = new RepairKind[0];

        /// <summary>At most this many repairs per hour on this interface (0: report only).</summary>
        public int MaxRepairsPerHour { get; internal set; } = DefaultMaxRepairsPerHour;

        /// <summary>True when the policy allows this repair on the interface.</summary>
        public bool Allows(RepairKind repair) => MaxRepairsPerHour > 0 && Array.IndexOf(AllowedRepairs, repair) >= 0;

        /// <summary>"wg0: repairs Firewall, Mtu (at most 3 an hour)".</summary>
        public override string ToString()
            => AllowedRepairs.Length == 0 || MaxRepairsPerHour == 0
                ? $"{Interface}: report only"
                : $"{Interface}: repairs {string.Join(", ", AllowedRepairs)} (at most {MaxRepairsPerHour} an hour)";
    }

    /// <summary>
    /// The remediation policy: per interface, the desired state and the repairs that may run on their own.
    /// Read from a YAML file (see examples/remediation-policy.yaml and about_WgTroubleshoot); unknown keys and
    /// malformed values are rejected with the file, line and column (ErrorId WgPolicyInvalid).
    /// </summary>
    public sealed class RemediationPolicy
    {
        private static readonly string[] TopKeys = { "interfaces", "stateFile", "report" };
        private static readonly string[] ReportKeys = { "format" };
        private static readonly string[] InterfaceKeys =
        {
            "maxHandshakeAgeSeconds", "mtu", "forwarding", "nat", "firewallPort", "reresolveEndpoints", "allowedRepairs", "maxRepairsPerHour", "firewall",
        };
        private static readonly string[] FirewallKeys = { "acceptTunnelInput" };
        private static readonly Regex Integer = new Regex(@"^[-+]?[0-9]+$", RegexOptions.CultureInvariant);

        /// <summary>A policy file larger than this is refused before it is read (WgPolicyInvalid).</summary>
        public const long MaxFileBytes = 1024 * 1024;

        private readonly List<InterfacePolicy> _interfaces;

        private RemediationPolicy(string path, List<InterfacePolicy> interfaces)
        {
            Path = path;
            _interfaces = interfaces;
        }

        /// <summary>The policy file; null for a policy parsed from text.</summary>
        public string Path { get; }

        /// <summary>Where the repair history is kept (to count repairs per hour); relative paths are taken from the policy file's folder. Null: not set.</summary>
        public string StateFile { get; private set; }

        /// <summary>The format of the report of a remediation run.</summary>
        public PolicyReportFormat ReportFormat { get; private set; } = PolicyReportFormat.Yaml;

        /// <summary>The interfaces the policy covers, in the order of the file.</summary>
        public IReadOnlyList<InterfacePolicy> Interfaces => _interfaces;

        /// <summary>The policy of one interface, or null when the policy does not name it.</summary>
        public InterfacePolicy ForInterface(string name) => _interfaces.FirstOrDefault(i => string.Equals(i.Interface, name, StringComparison.Ordinal));

        /// <summary>"policy /etc/wgtroubleshoot/policy.yaml: wg0, wg1".</summary>
        public override string ToString() => $"policy {Path ?? "(text)"}: {string.Join(", ", _interfaces.Select(i => i.Interface))}";

        /// <summary>Reads and validates a policy file. WgPolicyNotFound when it is missing, WgPolicyInvalid when it is not a valid policy.</summary>
        public static RemediationPolicy Load(string path)
        {
            if (string.IsNullOrEmpty(path)) throw new ArgumentNullException(nameof(path));
            var full = System.IO.Path.GetFullPath(path);
            string text;
            try
            {
                var length = new FileInfo(full).Length;
                if (length > MaxFileBytes)
                    throw new WgPolicyException(full, 1, 1, $"the file is {length} bytes long; a policy is at most {MaxFileBytes} bytes (1 MiB).");
                text = File.ReadAllText(full, new UTF8Encoding(false, true));
            }
            catch (Exception ex) when (ex is FileNotFoundException || ex is DirectoryNotFoundException)
            {
                throw new WgException(ErrorIds.PolicyNotFound, ErrorCategory.ObjectNotFound, $"The remediation policy file {full} does not exist.", full, ex);
            }
            catch (UnauthorizedAccessException ex)
            {
                throw new WgException(ErrorIds.PermissionDenied, ErrorCategory.PermissionDenied, $"The remediation policy file {full} cannot be read: permission denied.", full, ex);
            }
            catch (DecoderFallbackException ex)
            {
                throw new WgPolicyException(full, 1, 1, "the file is not UTF-8 text.", ex);
            }
            catch (IOException ex)
            {
                throw new WgException(ErrorIds.PolicyInvalid, ErrorCategory.InvalidData, $"The remediation policy file {full} cannot be read: {ex.Message}", full, ex);
            }
            return Parse(text, full);
        }

        /// <summary>Validates a policy given as YAML text; <paramref name="path"/> names it in errors and anchors a relative stateFile.</summary>
        public static RemediationPolicy Parse(string yaml, string path = null)
        {
            YamlTreeNode root;
            try
            {
                root = DependencyLoader.Engine.ParseYaml(yaml ?? "");
            }
            catch (YamlSyntaxException ex)
            {
                throw new WgPolicyException(path, ex.Line, ex.Column, ex.Problem, ex);
            }
            return new Reader(path).Read(root);
        }

        private sealed class Reader
        {
            private readonly string _path;

            public Reader(string path) => _path = path;

            private WgPolicyException Error(YamlTreeNode at, string problem) => new WgPolicyException(_path, at?.Line ?? 1, at?.Column ?? 1, problem);

            public RemediationPolicy Read(YamlTreeNode root)
            {
                if (root == null || root.IsNull)
                    throw Error(root, "the policy is empty; it needs at least 'interfaces:' with one interface.");
                if (root.Kind != YamlTreeKind.Mapping)
                    throw Error(root, "the policy must be a mapping with the keys interfaces, stateFile and report.");

                YamlTreeNode interfaces = null, stateFile = null, report = null;
                foreach (var (key, value) in Entries(root, TopKeys, "at the top level"))
                {
                    switch (key)
                    {
                        case "interfaces": interfaces = value; break;
                        case "stateFile": stateFile = value; break;
                        case "report": report = value; break;
                    }
                }
                if (interfaces == null) throw Error(root, "the policy has no 'interfaces:' key; name at least one interface.");

                var list = new List<InterfacePolicy>();
                if (interfaces.IsNull || interfaces.Kind != YamlTreeKind.Mapping || interfaces.Entries.Count == 0)
                    throw Error(interfaces, "'interfaces' must map at least one interface name to its settings (wg0: { ... }).");
                foreach (var entry in interfaces.Entries)
                {
                    var name = ScalarKey(entry.Key);
                    if (!WgConfigLocation.IsValidInterfaceName(name))
                        throw Error(entry.Key, $"'{Show(name)}' is not an interface name (1 to 15 letters, digits and _=+.-).");
                    list.Add(ReadInterface(name, entry.Value));
                }

                var policy = new RemediationPolicy(_path, list);
                if (stateFile != null)
                {
                    var s = String(stateFile, "stateFile");
                    if (s.Trim().Length == 0) throw Error(stateFile, "'stateFile' must be a file path.");
                    if (s.IndexOfAny(System.IO.Path.GetInvalidPathChars()) >= 0) throw Error(stateFile, $"'stateFile' '{Show(s)}' is not a valid path.");
                    policy.StateFile = _path != null && !System.IO.Path.IsPathRooted(s)
                        ? System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(_path), s))
                        : s;
                    // the state file is rewritten by every run: it must not be the policy or a WireGuard configuration
                    if (System.IO.Path.IsPathRooted(policy.StateFile))
                    {
                        try { RepairLedger.CheckStatePath(policy.StateFile, _path); }
                        catch (WgException ex) { throw Error(stateFile, ex.Message); }
                    }
                }
                if (report != null && !report.IsNull)
                {
                    if (report.Kind != YamlTreeKind.Mapping) throw Error(report, "'report' must be a mapping (report: { format: yaml }).");
                    foreach (var (key, value) in Entries(report, ReportKeys, "under 'report'"))
                    {
                        var f = String(value, "format");
                        if (f == "yaml") policy.ReportFormat = PolicyReportFormat.Yaml;
                        else if (f == "json") policy.ReportFormat = PolicyReportFormat.Json;
                        else throw Error(value, $"report format '{Show(f)}' is neither yaml nor json.");
                    }
                }
                return policy;
            }

            private InterfacePolicy ReadInterface(string name, YamlTreeNode node)
            {
                var p = new InterfacePolicy { Interface = name };
                if (node.IsNull) return p;
                if (node.Kind != YamlTreeKind.Mapping) throw Error(node, $"the settings of interface '{name}' must be a mapping (maxHandshakeAgeSeconds: 180, ...).");
                foreach (var (key, value) in Entries(node, InterfaceKeys, $"under interface '{name}'"))
                {
                    switch (key)
                    {
                        case "maxHandshakeAgeSeconds": p.MaxHandshakeAgeSeconds = Int(value, key, 1, 86400); break;
                        case "mtu":
                            if (value.Kind == YamlTreeKind.Scalar && value.Value == "auto") { p.MtuAuto = true; p.Mtu = null; }
                            else if (value.Kind == YamlTreeKind.Scalar && value.IsPlain && Integer.IsMatch(value.Value)) { p.Mtu = Int(value, key, 576, 65535); p.MtuAuto = false; }
                            else throw Error(value, $"'mtu' must be auto or a whole number (576-65535), not {Describe(value)}.");
                            break;
                        case "forwarding": p.Forwarding = Bool(value, key); break;
                        case "nat": p.Nat = Bool(value, key); break;
                        case "firewallPort": p.FirewallPort = Int(value, key, 1, 65535); break;
                        case "reresolveEndpoints": p.ReresolveEndpoints = Bool(value, key); break;
                        case "maxRepairsPerHour": p.MaxRepairsPerHour = Int(value, key, 0, 60); break;
                        case "allowedRepairs": p.AllowedRepairs = Repairs(value); break;
                        case "firewall":
                            if (value.IsNull) break;
                            if (value.Kind != YamlTreeKind.Mapping) throw Error(value, $"'firewall' must be a mapping (firewall: {{ acceptTunnelInput: true }}), not {Describe(value)}.");
                            foreach (var (fk, fv) in Entries(value, FirewallKeys, $"under 'firewall' of interface '{name}'"))
                                if (fk == "acceptTunnelInput") p.AcceptTunnelInput = Bool(fv, fk);
                            break;
                    }
                }
                return p;
            }

            /// <summary>
            /// The repairs a policy can allow. Keepalive is not one: NoKeepaliveBehindNat shows only with both ends in
            /// view (Invoke-WgDiagnosis -PeerSession, repaired by Repair-WgIssue), and an unattended run diagnoses one
            /// end, so a policy listing it would promise a repair that never runs.
            /// </summary>
            private static readonly string[] PolicyRepairs = Enum.GetNames(typeof(RepairKind)).Where(n => n != nameof(RepairKind.Keepalive)).ToArray();

            private RepairKind[] Repairs(YamlTreeNode node)
            {
                if (node.IsNull) return new RepairKind[0];
                if (node.Kind != YamlTreeKind.Sequence)
                    throw Error(node, $"'allowedRepairs' must be a list ([{string.Join(", ", PolicyRepairs)}]), not {Describe(node)}.");
                var result = new List<RepairKind>();
                foreach (var item in node.Items)
                {
                    var name = item.Kind == YamlTreeKind.Scalar ? item.Value : null;
                    var match = PolicyRepairs.FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
                    if (match == null)
                        throw Error(item, $"unknown repair {Describe(item)} in 'allowedRepairs'; the repairs are {string.Join(", ", PolicyRepairs)}.");
                    var kind = (RepairKind)Enum.Parse(typeof(RepairKind), match);
                    if (result.Contains(kind)) throw Error(item, $"repair {match} is listed twice in 'allowedRepairs'.");
                    result.Add(kind);
                }
                return result.ToArray();
            }

            /// <summary>A mapping's entries with their key names; unknown or misspelled keys are errors at the key.</summary>
            private IEnumerable<(string Key, YamlTreeNode Value)> Entries(YamlTreeNode map, string[] known, string where)
            {
                foreach (var entry in map.Entries)
                {
                    var key = ScalarKey(entry.Key);
                    if (Array.IndexOf(known, key) < 0)
                    {
                        var near = known.FirstOrDefault(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase));
                        var hint = near != null ? $"did you mean '{near}'? Keys are case-sensitive." : $"the keys {where} are {string.Join(", ", known)}.";
                        throw Error(entry.Key, $"unknown key '{Show(key)}' {where}: {hint}");
                    }
                    yield return (key, entry.Value);
                }
            }

            private string ScalarKey(YamlTreeNode key)
            {
                if (key.Kind != YamlTreeKind.Scalar) throw Error(key, "a key must be a plain name, not a list or a mapping.");
                return key.Value;
            }

            private int Int(YamlTreeNode node, string key, int min, int max)
            {
                if (node.Kind != YamlTreeKind.Scalar || !node.IsPlain || !Integer.IsMatch(node.Value))
                    throw Error(node, $"'{key}' must be a whole number ({min}-{max}), not {Describe(node)}.");
                if (!long.TryParse(node.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
                    throw Error(node, $"'{key}' must be between {min} and {max}, not {Show(node.Value)}.");
                return (int)v;
            }

            private bool Bool(YamlTreeNode node, string key)
            {
                if (node.Kind == YamlTreeKind.Scalar && node.IsPlain)
                {
                    switch (node.Value)
                    {
                        case "true": case "True": case "TRUE": return true;
                        case "false": case "False": case "FALSE": return false;
                    }
                }
                throw Error(node, $"'{key}' must be true or false, not {Describe(node)}.");
            }

            private string String(YamlTreeNode node, string key)
            {
                if (node.Kind != YamlTreeKind.Scalar || node.IsNull) throw Error(node, $"'{key}' must be a text value, not {Describe(node)}.");
                return node.Value;
            }

            private static string Describe(YamlTreeNode node)
            {
                switch (node.Kind)
                {
                    case YamlTreeKind.Mapping: return "a mapping";
                    case YamlTreeKind.Sequence: return "a list";
                    default: return node.IsNull ? "an empty value" : (node.IsPlain ? $"'{Show(node.Value)}'" : $"the quoted text '{Show(node.Value)}'");
                }
            }

            private static string Show(string text) => RawText.ForMessage(text ?? "");
        }
    }

    /// <summary>The remediation policy is not valid: ErrorId WgPolicyInvalid, category InvalidData, with the file, line and column.</summary>
    public sealed class WgPolicyException : WgException
    {
        /// <summary>Creates the error for <paramref name="file"/> at <paramref name="line"/> and <paramref name="column"/> (1-based).</summary>
        public WgPolicyException(string file, int line, int column, string problem, Exception inner = null)
            : base(ErrorIds.PolicyInvalid, ErrorCategory.InvalidData,
                   $"{file ?? "(policy)"}, line {line}, column {column}: {problem}", file, inner)
        {
            File = file;
            Line = line;
            Column = column;
            Problem = problem;
        }

        /// <summary>The policy file (null for a policy given as text).</summary>
        public string File { get; }

        /// <summary>The 1-based line of the problem.</summary>
        public int Line { get; }

        /// <summary>The 1-based column of the problem.</summary>
        public int Column { get; }

        /// <summary>What is wrong, without the file and position.</summary>
        public string Problem { get; }
    }
}
