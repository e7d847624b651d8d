using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using WgTroubleshoot.Snapshot;

namespace WgTroubleshoot.Checks
{
    /// <summary>InterfaceDown: the link is administratively down.</summary>
    public sealed class LinkCheck : CheckBase
    {
        public const string CheckName = "Link";
        public LinkCheck() : base(CheckName, SourceNames.WgState, SourceNames.Links) { }

        public override IEnumerable<Finding> Evaluate(CheckContext c)
        {
            var i = c.Device?.Interface;
            if (i == null || i.IsUp) yield break;
            var f = c.NewFinding("WGD100", Severity.Error, Cause.InterfaceDown, $"{i.Name} is administratively down: nothing passes through it.");
            f.Evidence = new[] { $"ip link: {i.Name} state {i.LinkState ?? "unknown"}, MTU {i.Mtu?.ToString(CultureInfo.InvariantCulture) ?? "?"}" };
            f.Remediation = $"Repair-WgIssue brings it up (ip link set dev {i.Name} up).";
            f.CanRepair = true;
            f.RepairData = new[] { "Interface=" + i.Name };
            yield return f;
        }
    }

    /// <summary>The configuration linter's findings (ConfigError, PortMismatch ...) for the interface's file.</summary>
    public sealed class ConfigLintCheck : CheckBase
    {
        public const string CheckName = "ConfigLint";
        public ConfigLintCheck() : base(CheckName, SourceNames.Config) { }

        public override IEnumerable<Finding> Evaluate(CheckContext c)
            => c.Interface.Lint.Select(f => FromLint(c, f, CheckContext.Line(f)));

        internal static Finding FromLint(CheckContext c, ConfigFinding f, string evidence)
        {
            var cause = f.Cause == nameof(Cause.None) || string.IsNullOrEmpty(f.Cause) ? nameof(Cause.ConfigError) : f.Cause;
            return new Finding
            {
                Id = f.Id, Severity = f.Severity, Cause = cause, Peer = f.Peer, Interface = c.Name, Role = c.Role,
                Summary = f.Message, Evidence = new[] { evidence }, Remediation = f.Fix, CanRepair = false,
                Timestamp = c.Host.CompletedAt,
                Peers = f.Peers ?? new string[0],   // a lint finding folded over several peers keeps every key
            };
        }
    }

    /// <summary>-PeerConfigPath: keys, preshared keys, ports and AllowedIPs of both ends compared.</summary>
    public sealed class BothEndsCheck : CheckBase
    {
        public BothEndsCheck() : base("BothEnds", SourceNames.PeerConfig) { }

        public override IEnumerable<Finding> Evaluate(CheckContext c)
        {
            var mine = c.Config?.Path;
            var other = c.Interface.PeerConfig?.Path ?? c.Host.Request.PeerConfigPath;
            return c.Interface.BothEnds.Select(f => ConfigLintCheck.FromLint(c, f, $"{CheckContext.Line(f)} compared with {(f.File == mine ? other : mine)}"));
        }
    }

    /// <summary>The summary: "Healthy" only when nothing above Info was found (and what was looked at).</summary>
    public sealed class HealthySummaryCheck : CheckBase
    {
        public HealthySummaryCheck() : base("Summary") { }

        public override IEnumerable<Finding> Evaluate(CheckContext c)
        {
            if (c.Earlier.Any(f => Diagnoser.Rank(f.Severity) > (int)Severity.Info)) yield break;
            var hs = c.Handshakes.Values;
            var counts = hs.GroupBy(h => h.Status).Select(g => $"{g.Count()} {g.Key}");
            var f = c.NewFinding("WGD900", Severity.Info, Cause.Healthy,
                $"{c.Name}: no fault found ({hs.Count()} peer{(hs.Count() == 1 ? "" : "s")}: {string.Join(", ", counts)}).");
            f.Evidence = c.Host.Sources.Where(s => s.Message != null && (s.Interface == null || s.Interface == c.Name) && s.State != nameof(SourceState.Skipped)).Select(s => s.ToString())
                .Concat(c.FirewallStatuses.Select(s => $"{s.Backend}: UDP {s.Port} {s.Verdict}")).ToArray();
            yield return f;
        }
    }
}
