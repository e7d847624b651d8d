using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Snapshot;

namespace WgTroubleshoot.Checks
{
    /// <summary>
    /// Runs the <see cref="CheckCatalog"/> over a snapshot: per interface every check in order (or CheckNotRun when a
    /// source it needs is unknown), then the declared suppressions, the fold of per-peer findings, and the summary.
    /// Pure: the same snapshot gives the same findings on any machine.
    /// </summary>
    public sealed class Diagnoser
    {
        private readonly IReadOnlyList<ICheck> _checks;
        private readonly IReadOnlyList<Suppression> _suppressions;

        public Diagnoser(IReadOnlyList<ICheck> checks = null, IReadOnlyList<Suppression> suppressions = null)
        {
            _checks = checks ?? CheckCatalog.Checks;
            _suppressions = suppressions ?? CheckCatalog.Suppressions;
        }

        /// <summary>The findings of every interface of the snapshot, most severe first (root causes first within a severity).</summary>
        public List<Finding> Diagnose(HostSnapshot snapshot)
        {
            var all = new List<Finding>();
            foreach (var i in snapshot.Interfaces) all.AddRange(DiagnoseInterface(snapshot, i));
            return Sort(all);
        }

        public List<Finding> DiagnoseInterface(HostSnapshot snapshot, InterfaceSnapshot iface)
        {
            var ctx = new CheckContext(snapshot, iface);
            var notRun = new List<Tuple<ICheck, SourceStatus>>();
            foreach (var check in _checks)
            {
                var missing = Missing(snapshot, iface, check);
                if (missing != null) { notRun.Add(Tuple.Create(check, missing)); continue; }
                var found = check.Evaluate(ctx).Where(f => f != null).ToList();
                foreach (var f in found) Complete(f, ctx, check.Name);
                ctx.AddEarlier(found);
            }
            var findings = Suppress(ctx, ctx.Earlier.ToList());
            findings.AddRange(NotRun(ctx, notRun));
            findings = FindingFolder.Fold(findings);
            var summary = new CheckContext(snapshot, iface, findings);
            // The verdict comes first among the Info findings it sums up.
            var verdict = CheckCatalog.Summary.Evaluate(summary).ToList();
            foreach (var f in verdict) Complete(f, ctx, CheckCatalog.Summary.Name);
            findings.InsertRange(0, verdict);
            return findings;
        }

        /// <summary>The first needed source that is unknown for this interface; null when all are known.</summary>
        private static SourceStatus Missing(HostSnapshot snapshot, InterfaceSnapshot iface, ICheck check)
        {
            foreach (var need in check.Needs)
            {
                var st = snapshot.Source(need, iface.Name);
                if (st != null && st.IsUnknown) return st;
            }
            return null;
        }

        private List<Finding> Suppress(CheckContext ctx, List<Finding> findings)
        {
            var removed = new HashSet<Finding>();
            foreach (var rule in _suppressions)
            {
                var winners = new HashSet<Finding>(findings.Where(f => !removed.Contains(f) && rule.Winners.Any(w => w.ToString() == f.Cause) && rule.WinnerIs(f)));
                if (winners.Count == 0 || !rule.When(ctx)) continue;
                var peers = new HashSet<string>(winners.SelectMany(w => w.Peers.Concat(new[] { w.Peer })).Where(p => p != null), StringComparer.Ordinal);
                foreach (var f in findings)
                {
                    if (removed.Contains(f) || winners.Contains(f) || !rule.Loser(f)) continue;
                    if (rule.SamePeer && (f.Peer == null || !peers.Contains(f.Peer))) continue;
                    removed.Add(f);
                }
            }
            return findings.Where(f => !removed.Contains(f)).ToList();
        }

        /// <summary>One CheckNotRun finding per unknown source, naming the checks that could not run and what the source said.</summary>
        private static IEnumerable<Finding> NotRun(CheckContext ctx, List<Tuple<ICheck, SourceStatus>> notRun)
        {
            foreach (var g in notRun.GroupBy(t => t.Item2))
            {
                var st = g.Key;
                var checks = g.Select(t => t.Item1.Name).ToArray();
                var f = ctx.NewFinding("WGD950", Severity.Warning, Cause.CheckNotRun,
                    $"{(checks.Length == 1 ? "The check " + checks[0] + " could not run" : "The checks " + string.Join(", ", checks) + " could not run")}: {st.Name} {(st.State == nameof(SourceState.Unavailable) ? "is unavailable" : "could not be read")}"
                    + (st.Message != null ? ": " + st.Message : "."));
                f.Evidence = new[] { $"Source {st.Name}{(st.Interface != null ? " (" + st.Interface + ")" : "")}: {st.State}" + (st.ErrorId != null ? ", " + st.ErrorId : "") + (st.Message != null ? ": " + st.Message : "") }
                    .Concat(checks.Select(c => $"Not judged: {c} (needs {string.Join(", ", CheckCatalog.Find(c)?.Needs ?? new string[0])})")).ToArray();
                f.Remediation = "Make the source readable (install the tool, run as root, fix the file) and run Invoke-WgDiagnosis again: until then these causes are neither confirmed nor ruled out.";
                f.RepairData = new[] { "Interface=" + ctx.Name, "Source=" + st.Name, "Checks=" + string.Join(",", checks) };
                f.CheckName = "Diagnoser";
                yield return f;
            }
        }

        private static void Complete(Finding f, CheckContext ctx, string check)
        {
            f.Interface = f.Interface ?? ctx.Name;
            f.Role = f.Role ?? ctx.Role;
            f.CheckName = f.CheckName ?? check;
            if (f.PeerName == null && f.Peer != null) f.PeerName = ctx.Peer(f.Peer)?.Name;
            if (f.CanRepair)
            {
                // The remediation shown is exactly what Repair-WgIssue runs.
                var call = RemediationCall.For(FindingRef.From(f));
                if (call != null) f.Remediation = call.ToString();
            }
        }

        /// <summary>Most severe first; within a severity, the order the checks found them in (root causes first).</summary>
        public static List<Finding> Sort(IEnumerable<Finding> findings)
            => findings.Select((f, n) => new { f, n })
                       .OrderByDescending(x => Rank(x.f.Severity))
                       .ThenBy(x => x.n)
                       .Select(x => x.f).ToList();

        /// <summary>The numeric rank of a severity string (Info 0, Warning 1, Error 2; unknown -1).</summary>
        public static int Rank(string severity)
            => Enum.TryParse<Severity>(severity, true, out var s) ? (int)s : -1;
    }

    /// <summary>Folds findings that several peers share (same Id, Cause and Severity, not repairable per peer) into one that lists them.</summary>
    public static class FindingFolder
    {
        /// <summary>How many peers a folded Summary names before "and N more".</summary>
        public const int NamesShown = 3;

        public static List<Finding> Fold(List<Finding> findings)
        {
            var groups = findings.Where(Foldable).GroupBy(f => f.Id + "\u0001" + f.Cause + "\u0001" + f.Severity + "\u0001" + f.Interface)
                                 .Where(g => g.Count() >= CheckCatalog.FoldThreshold)
                                 .ToDictionary(g => g.Key, g => g.ToList());
            if (groups.Count == 0) return findings;
            var result = new List<Finding>();
            var emitted = new HashSet<string>();
            foreach (var f in findings)
            {
                var key = Foldable(f) ? f.Id + "\u0001" + f.Cause + "\u0001" + f.Severity + "\u0001" + f.Interface : null;
                if (key == null || !groups.TryGetValue(key, out var group)) { result.Add(f); continue; }
                if (emitted.Add(key)) result.Add(Merge(group));
            }
            return result;
        }

        private static bool Foldable(Finding f) => f.Peer != null && !f.CanRepair && f.Peers.Length == 0;

        private static Finding Merge(List<Finding> group)
        {
            var first = group[0];
            var names = group.Take(NamesShown).Select(f => f.PeerName ?? Keys.WgKey.Short(f.Peer)).ToList();
            var more = group.Count - names.Count;
            var who = string.Join(", ", names) + (more > 0 ? $" and {more.ToString(CultureInfo.InvariantCulture)} more" : "");
            var what = first.FoldSummary ?? $"{first.Cause}, as in: {first.Summary}";
            return new Finding
            {
                Id = first.Id, Severity = first.Severity, Cause = first.Cause, Interface = first.Interface, Role = first.Role,
                Summary = $"{group.Count.ToString(CultureInfo.InvariantCulture)} peers of {first.Interface} ({who}): {what}",
                Evidence = group.Take(NamesShown).SelectMany(f => f.Evidence.Take(2).Select(e => $"{f.PeerName ?? Keys.WgKey.Short(f.Peer)}: {e}"))
                    .Concat(new[] { $"Every peer concerned is in the Peers property ({group.Count.ToString(CultureInfo.InvariantCulture)} public keys)." }).ToArray(),
                Remediation = first.Remediation,
                CanRepair = false,
                Timestamp = first.Timestamp,
                Peers = group.Select(f => f.Peer).ToArray(),
                CheckName = first.CheckName,
                FoldSummary = first.FoldSummary,
            };
        }
    }
}
