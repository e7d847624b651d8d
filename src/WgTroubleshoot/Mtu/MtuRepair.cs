using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Config;
using WgTroubleshoot.Forwarding;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Mtu
{
    /// <summary>Plans Set-WgMtu: the live link MTU and MTU = in the [Interface] section of the configuration.</summary>
    public static class MtuRepair
    {
        public const int MaxMtu = 65535;

        /// <summary>The lowest MTU allowed: 1280 when the interface carries IPv6 (the IPv6 minimum), else 576.</summary>
        public static int MinimumFor(string[] addresses)
            => (addresses ?? new string[0]).Any(a => a.IndexOf(':') >= 0) ? 1280 : 576;

        /// <summary>Throws WgInvalidMtu (InvalidArgument) for a value outside the allowed range.</summary>
        public static void Validate(string iface, int mtu, string[] addresses)
        {
            int min = MinimumFor(addresses);
            if (mtu < min || mtu > MaxMtu)
                throw new WgException(ErrorIds.InvalidMtu, ErrorCategory.InvalidArgument,
                    string.Format(CultureInfo.InvariantCulture,
                        "MTU {0} is outside {1}..{2} for {3}" + (min == 1280 ? " (it carries IPv6, whose minimum MTU is 1280)." : " (IPv4 only: 576 is the IPv4 minimum)."),
                        mtu, min, MaxMtu, iface), mtu);
        }

        public static RepairStep PlanLive(INativeRunner runner, string iface, int? current, int mtu)
        {
            var c = CultureInfo.InvariantCulture;
            var args = new[] { "link", "set", "dev", iface, "mtu", mtu.ToString(c) };
            var undoArgs = current.HasValue ? new[] { "link", "set", "dev", iface, "mtu", current.Value.ToString(c) } : null;
            var step = new RepairStep
            {
                Needed = current != mtu,
                Record = new ChangeRecord
                {
                    Target = iface,
                    Action = NativeRunner.FormatCommandLine("ip", args),
                    Before = current?.ToString(c),
                    After = mtu.ToString(c),
                },
            };
            step.Apply = tx => tx.Run(step.Record, "Setting the MTU of " + iface, new NativeCommand("ip", args),
                undoArgs == null ? new NativeCommand[0] : new[] { new NativeCommand("ip", undoArgs) });
            return step;
        }

        public static RepairStep PlanConfig(string path, int mtu)
        {
            var c = CultureInfo.InvariantCulture;
            var doc = WgConfigFile.ReadDocument(path);
            var before = doc.ToBytes();
            string old = null;
            bool inInterface = false;
            foreach (var l in doc.Lines)
            {
                if (l.IsSectionHeader) { inInterface = l.IsSection("Interface"); continue; }
                if (inInterface && l.HasKey("MTU") && old == null) old = l.QuickValue;
            }
            var value = mtu.ToString(c);
            var preview = WgConfigDocument.Parse(before, path);
            bool changed = preview.SetValue(WgConfigSectionRef.Interface, "MTU", value);
            var step = new RepairStep
            {
                Needed = changed,
                Record = new ChangeRecord
                {
                    Target = path,
                    Action = old == null ? $"add 'MTU = {value}' to [Interface] of {path}" : $"change 'MTU = {old}' to 'MTU = {value}' in [Interface] of {path}",
                    Before = old == null ? "(no MTU line)" : "MTU = " + old,
                    After = "MTU = " + value,
                },
            };
            step.Apply = tx => tx.EditConfig(step.Record, path, d => d.SetValue(WgConfigSectionRef.Interface, "MTU", value));
            return step;
        }
    }
}
