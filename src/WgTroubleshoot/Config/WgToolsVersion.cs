using System;
using System.Globalization;
using System.Text.RegularExpressions;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Config
{
    /// <summary>
    /// The wireguard-tools version whose wg-quick reads a file: the rules that changed between versions are
    /// named here, each with the first version that has it, so a parse can follow the tools that will run it.
    /// </summary>
    internal static class WgToolsVersion
    {
        /// <summary>The oldest behaviour the module knows (Debian 12, Ubuntu 22.04/24.04): hooks end at '#'.</summary>
        internal static readonly Version Baseline = new Version(1, 0, 20210914);

        /// <summary>PreUp runs after the interface is created (before, it ran first, so `wg set %i` in PreUp failed).</summary>
        internal static readonly Version PreUpAfterInterface = new Version(1, 0, 20250521);

        /// <summary>
        /// wg-quick passes '#' and what follows it to PreUp/PostUp/PreDown/PostDown, and configures the interface
        /// with `wg addconf` (so a private key set by PreUp survives).
        /// </summary>
        internal static readonly Version HashInHooks = new Version(1, 0, 20260223);

        private static readonly Lazy<Version> InstalledVersion = new Lazy<Version>(Detect);

        /// <summary>The installed wireguard-tools (`wg --version`), or null when wg is missing or says nothing usable.</summary>
        internal static Version Installed => InstalledVersion.Value;

        /// <summary>The version to read by: the one asked for, else the installed one, else <see cref="Baseline"/>.</summary>
        internal static Version Effective(Version requested) => requested ?? Installed ?? Baseline;

        /// <summary>"v1.0.20210914" or "1.0.20210914" (as `wg --version` prints it) to a Version; null otherwise.</summary>
        internal static Version Parse(string text)
        {
            if (text == null) return null;
            var m = Regex.Match(text, @"v?(\d+)\.(\d+)\.(\d+)");
            if (!m.Success) return null;
            try
            {
                return new Version(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture),
                                   int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture),
                                   int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture));
            }
            catch (OverflowException)
            {
                return null;
            }
        }

        private static Version Detect()
        {
            try
            {
                var runner = new NativeRunner();
                var wg = State.WgStateReader.WgTool;
                if (!runner.IsAvailable(wg)) return null;
                var r = runner.Run(wg, new[] { "--version" }, TimeSpan.FromSeconds(5));
                return r.Success ? Parse(r.StdOut + " " + r.StdErr) : null;
            }
            catch (Exception ex) when (ex is WgException || ex is InvalidOperationException || ex is System.ComponentModel.Win32Exception)
            {
                return null;
            }
        }
    }
}
