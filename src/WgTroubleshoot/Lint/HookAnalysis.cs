using System.Collections.Generic;
using System.Text.RegularExpressions;

namespace WgTroubleshoot.Lint
{
    /// <summary>
    /// What wg-quick hooks (PreUp, PostUp) do that the rules must know: load the private key
    /// (`wg set %i private-key ...`, as wg-quick(8) documents), add routes or rules of their own (for
    /// Table = off), add addresses, set a listen port or endpoints. Read from the command text only.
    /// </summary>
    internal static class HookAnalysis
    {
        private static readonly Regex PrivateKey = new Regex(@"\bwg\s+(set\s+\S+\s+(\S+\s+)*private-key\b|setconf\b|addconf\b|syncconf\b)", RegexOptions.CultureInvariant);
        private static readonly Regex Route = new Regex(@"\bip\s+(-\S+\s+)*(r|ro|rou|rout|route|ru|rul|rule)\s+(add|a|append|replace|prepend|change)\b|\broute\s+add\b|\bnmcli\b|\bwg-quick-route\b", RegexOptions.CultureInvariant);
        private static readonly Regex Address = new Regex(@"\bip\s+(-\S+\s+)*(a|ad|add|addr|addre|addres|address)\s+(add|a|replace|change)\b|\bifconfig\b", RegexOptions.CultureInvariant);
        private static readonly Regex PortOrEndpoint = new Regex(@"\bwg\s+(set\s+\S+\s+(\S+\s+)*(listen-port|endpoint)\b|setconf\b|addconf\b|syncconf\b)", RegexOptions.CultureInvariant);

        internal static bool SetsPrivateKey(IEnumerable<string> hooks) => FirstSettingPrivateKey(hooks) != null;

        /// <summary>The first hook that loads the private key, or null.</summary>
        internal static string FirstSettingPrivateKey(IEnumerable<string> hooks)
        {
            foreach (var h in hooks) if (h != null && PrivateKey.IsMatch(h)) return h;
            return null;
        }

        internal static bool AddsRoutes(IEnumerable<string> hooks) => Any(hooks, Route);

        internal static bool AddsAddress(IEnumerable<string> hooks) => Any(hooks, Address);

        internal static bool SetsListenPortOrEndpoint(IEnumerable<string> hooks) => Any(hooks, PortOrEndpoint);

        private static bool Any(IEnumerable<string> hooks, Regex r)
        {
            foreach (var h in hooks) if (h != null && r.IsMatch(h)) return true;
            return false;
        }
    }
}
