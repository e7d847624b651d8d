using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using WgTroubleshoot.Native;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Commands
{
    /// <summary>Tab completion of WireGuard interface names: live interfaces and configured ones.</summary>
    public sealed class InterfaceNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var names = new SortedSet<string>(StringComparer.Ordinal);
            try
            {
                var runner = new NativeRunner();
                if (runner.IsAvailable(WgStateReader.WgTool))
                {
                    var r = runner.Run(WgStateReader.WgTool, new[] { "show", "interfaces" }, TimeSpan.FromSeconds(3));
                    if (r.Success)
                        foreach (var n in r.StdOut.Split(new[] { ' ', '\n', '\t' }, StringSplitOptions.RemoveEmptyEntries))
                            if (IpInfo.LinkExists(n)) names.Add(n);
                }
                foreach (var n in UapiClient.ListInterfaces()) if (IpInfo.LinkExists(n)) names.Add(n);
            }
            catch (Exception) { /* completion never fails */ }
            try
            {
                if (Directory.Exists(WgTroubleshoot.Config.WgConfigLocation.ConfigDirectory))
                    foreach (var f in Directory.GetFiles(WgTroubleshoot.Config.WgConfigLocation.ConfigDirectory, "*.conf"))
                        names.Add(Path.GetFileNameWithoutExtension(f));
            }
            catch (Exception) { }
            var prefix = (wordToComplete ?? string.Empty).Trim('\'', '"');
            return names.Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                        .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n));
        }
    }
}
