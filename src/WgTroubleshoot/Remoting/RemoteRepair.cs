using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Json;

namespace WgTroubleshoot.Remoting
{
    /// <summary>
    /// The data of a repair sent to another host: the findings as JSON one way, the repair results (and the
    /// warnings of the run) as JSON back. Both directions are read as untrusted input: only the known fields,
    /// each of its type and bounded in size; anything else refuses the whole message before anything runs.
    /// </summary>
    public static class RemoteRepair
    {
        public const int MaxFindings = 64;
        private const int MaxText = 4096;
        private const int MaxData = 32;
        private const int MaxDataText = 512;
        private const int MaxResults = 256;
        private const int MaxList = 256;

        private static readonly Regex Word = new Regex(@"^[A-Za-z][A-Za-z0-9]{0,63}$", RegexOptions.CultureInvariant);
        private static readonly string[] FindingFields = { "Id", "Severity", "Cause", "Interface", "Peer", "Remediation", "CanRepair", "RepairData" };

        public static string FindingsToJson(IEnumerable<FindingRef> findings)
            => JsonWriter.Compact(findings.Select(f => (object)new Dictionary<string, object>
            {
                ["Id"] = f.Id, ["Severity"] = f.Severity, ["Cause"] = f.Cause, ["Interface"] = f.Interface, ["Peer"] = f.Peer,
                ["Remediation"] = f.Remediation, ["CanRepair"] = f.CanRepair, ["RepairData"] = (f.RepairData ?? new string[0]).ToList(),
            }).ToList());

        /// <summary>The findings of a repair request; <see cref="ArgumentException"/> when the text is not exactly that.</summary>
        public static List<FindingRef> FindingsFromJson(string json)
        {
            try { return Findings(json); }
            catch (FormatException ex) { throw new ArgumentException("The findings are not the module's repair request: " + ex.Message + ".", nameof(json), ex); }
        }

        private static List<FindingRef> Findings(string json)
        {
            if (!(JsonReader.Parse(json, JsonLimits.Remote) is List<object> list)) throw new FormatException("the findings must be a JSON array");
            if (list.Count == 0 || list.Count > MaxFindings) throw new FormatException($"1 to {MaxFindings} findings are repaired at once, not {list.Count}");
            var result = new List<FindingRef>();
            foreach (var item in list)
            {
                var d = JsonFields.Object(item, "a finding");
                JsonFields.OnlyKnown(d, "a finding", FindingFields);
                var f = new FindingRef
                {
                    Id = JsonFields.String(d, "Id", MaxText), Severity = JsonFields.String(d, "Severity", 16), Cause = JsonFields.String(d, "Cause", 64),
                    Interface = JsonFields.String(d, "Interface", 15), Peer = JsonFields.String(d, "Peer", 64), Remediation = JsonFields.String(d, "Remediation", MaxText),
                    CanRepair = JsonFields.Bool(d, "CanRepair"),
                    RepairData = JsonFields.Strings(d, "RepairData", MaxData, MaxDataText).ToArray(),
                };
                if (f.Cause == null || !Word.IsMatch(f.Cause)) throw new FormatException("a finding has no Cause, or one that is not a name");
                if (f.Severity != null && !Word.IsMatch(f.Severity)) throw new FormatException("a finding has a Severity that is not a name");
                if (f.Interface == null) throw new FormatException("a finding has no Interface");
                RemoteEndpoint.Validate(f.Interface, allowEmpty: false);
                if (f.Peer != null && !Keys.WgKey.IsValid(f.Peer)) throw new FormatException("a finding has a Peer that is not a WireGuard public key");
                if (f.RepairData.Any(x => x.Any(char.IsControl))) throw new FormatException("a RepairData item holds a control character");
                result.Add(f);
            }
            return result;
        }

        public static string ResultsToJson(IEnumerable<RepairResult> results, IEnumerable<string> warnings)
            => JsonWriter.Compact(new Dictionary<string, object>
            {
                ["Results"] = results.Select(r => (object)new Dictionary<string, object>
                {
                    ["FindingId"] = r.FindingId, ["Cause"] = r.Cause, ["Interface"] = r.Interface, ["Peer"] = r.Peer, ["Action"] = r.Action,
                    ["Changed"] = r.Changed, ["Verified"] = r.Verified, ["RolledBack"] = r.RolledBack, ["RollbackRefused"] = r.RollbackRefused.ToList(),
                    ["Before"] = r.Before, ["After"] = r.After, ["Error"] = r.Error, ["UndoCommands"] = r.UndoCommands.ToList(),
                    ["Changes"] = r.Changes.Select(c => (object)new Dictionary<string, object>
                    {
                        ["Target"] = c.Target, ["Action"] = c.Action, ["Changed"] = c.Changed, ["Before"] = c.Before, ["After"] = c.After,
                        ["UndoCommands"] = c.UndoCommands.ToList(), ["Commands"] = c.Commands.ToList(), ["Notes"] = c.Notes.ToList(),
                        ["Timestamp"] = c.Timestamp.ToUniversalTime().ToString("o", CultureInfo.InvariantCulture),
                    }).ToList(),
                }).ToList(),
                ["Warnings"] = warnings.ToList(),
            });

        /// <summary>The answer of the other host; <see cref="FormatException"/> when it is not the module's answer.</summary>
        public static List<RepairResult> ResultsFromJson(string json, out List<string> warnings)
        {
            var d = JsonFields.ParseObject(json, "the answer");
            warnings = JsonFields.Strings(d, "Warnings", MaxList);
            if (!(d.TryGetValue("Results", out var rv) && rv is List<object>)) throw new FormatException("the answer has no Results");
            var results = new List<RepairResult>();
            foreach (var o in JsonFields.List(d, "Results", MaxResults))
            {
                var r = JsonFields.Object(o, "a result");
                results.Add(new RepairResult
                {
                    FindingId = Text(r, "FindingId"), Cause = Text(r, "Cause"), Interface = Text(r, "Interface"), Peer = Text(r, "Peer"), Action = Text(r, "Action"),
                    Changed = JsonFields.Bool(r, "Changed"), Verified = JsonFields.Bool(r, "Verified"), RolledBack = JsonFields.Bool(r, "RolledBack"),
                    RollbackRefused = Texts(r, "RollbackRefused"), Before = Text(r, "Before"), After = Text(r, "After"), Error = Text(r, "Error"),
                    UndoCommands = Texts(r, "UndoCommands"),
                    Changes = JsonFields.List(r, "Changes", MaxList).Select(x => JsonFields.Object(x, "a change")).Select(c => new ChangeRecord
                    {
                        Target = Text(c, "Target"), Action = Text(c, "Action"), Changed = JsonFields.Bool(c, "Changed"), Before = Text(c, "Before"), After = Text(c, "After"),
                        UndoCommands = Texts(c, "UndoCommands"), Commands = Texts(c, "Commands"), Notes = Texts(c, "Notes"),
                        Timestamp = DateTime.TryParse(Text(c, "Timestamp"), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t) ? t : DateTime.MinValue,
                    }).ToArray(),
                });
            }
            return results;
        }

        private static string Text(Dictionary<string, object> d, string k) => JsonFields.String(d, k, MaxText * 4);

        private static string[] Texts(Dictionary<string, object> d, string k) => JsonFields.Strings(d, k, MaxList, MaxText * 4).ToArray();
    }
}
