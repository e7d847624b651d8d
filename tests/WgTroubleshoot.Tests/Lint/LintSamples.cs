using System.Collections.Generic;
using System.Text;
using WgTroubleshoot.Lint;

namespace WgTroubleshoot.Tests.Lint
{
    /// <summary>A machine where files are 0600 and resolvconf is installed, unless a test says otherwise.</summary>
    internal sealed class FakeEnvironment : ILintEnvironment
    {
        internal int? Mode { get; set; } = 0x180;
        internal bool HasResolvconf { get; set; } = true;
        public int? FileMode(string path) => Mode;
        public bool CommandExists(string name) => name == "resolvconf" && HasResolvconf;
        public bool IsWindows => false;
    }

    /// <summary>Keys made with `wg genkey`, `wg pubkey` and `wg genpsk` (test keys, used nowhere else), and clean configurations.</summary>
    internal static class LintSamples
    {
        internal const string ServerPrivate = "uM0EY8pFih2IUj/Re/O4q1HJT0Z0Qv4CVwxR0FvKTHI=";
        internal const string ServerPublic = "8Gk4z8/SQXSTojG5xhomhcgWTyp54mNfaGFm+hddYRg=";
        internal const string LaptopPrivate = "wM84XXe//9IYqWzgf82rvWowIMtOaJCoR08AlDJb+X4=";
        internal const string LaptopPublic = "ASUBFJwZ2vdM+h+D0Lzm/8vMXtdzTKm7bQgziyDIhHs=";
        internal const string PhonePrivate = "KNmUT1uc3eQEODjGFH47+mZAEcrhZ7sgvqwM87lXxUo=";
        internal const string PhonePublic = "ryFhk6B8mYc5AyWj7fSbmYTinG/daFEJIYKro/owgCk=";
        internal const string SiteAPrivate = "0DzUjhwcp5sZxVRylBaXrf7+bKkCU/SXlkKdwDVGqWI=";
        internal const string SiteAPublic = "AGkLlLAFeTJ/uoEro5a3hk+zBTahoinRT8gFrWBblBs=";
        internal const string SiteBPrivate = "oOgSIsw91WNXJuTpefhavFViJXSZYGKo8lWuH7AoJGE=";
        internal const string SiteBPublic = "b3KWh87wNLvKxuO3wFagIMGv+lE0BE1eImBlSA4iElo=";
        internal const string OtherPrivate = "YKnhb6cu1scKwKM7xCX1NPvMmTM2Gn2zC5DswYdLmmc=";
        internal const string OtherPublic = "HsWJF/+0Te3qOmcZd8hUtBbKY442mGVTMKgbL1WDURA=";
        internal const string Psk1 = "klV9byFcmntChk3cIKRY/3iWSsqmD+uwjBt4rKkZ5u0=";
        internal const string Psk2 = "o8yl9XHs4VG/eqOUU0H9EKjp9rgGaNN2vNXynmuiS6E=";

        internal static readonly string[] Secrets = { ServerPrivate, LaptopPrivate, PhonePrivate, SiteAPrivate, SiteBPrivate, OtherPrivate, Psk1, Psk2 };

        /// <summary>A server with two road-warrior peers.</summary>
        internal const string Server =
            "[Interface]\n" +
            "Address = 10.8.0.1/24, fd00:8::1/64\n" +
            "ListenPort = 51820\n" +
            "PrivateKey = " + ServerPrivate + "\n" +
            "\n" +
            "# laptop\n" +
            "[Peer]\n" +
            "PublicKey = " + LaptopPublic + "\n" +
            "PresharedKey = " + Psk1 + "\n" +
            "AllowedIPs = 10.8.0.2/32, fd00:8::2/128\n" +
            "\n" +
            "# phone\n" +
            "[Peer]\n" +
            "PublicKey = " + PhonePublic + "\n" +
            "AllowedIPs = 10.8.0.3/32\n";

        /// <summary>The laptop, the server's first peer: a full-tunnel client behind NAT.</summary>
        internal const string Laptop =
            "[Interface]\n" +
            "PrivateKey = " + LaptopPrivate + "\n" +
            "Address = 10.8.0.2/32, fd00:8::2/128\n" +
            "DNS = 10.8.0.1\n" +
            "MTU = 1420\n" +
            "\n" +
            "[Peer]\n" +
            "PublicKey = " + ServerPublic + "\n" +
            "PresharedKey = " + Psk1 + "\n" +
            "Endpoint = 203.0.113.10:51820\n" +
            "AllowedIPs = 0.0.0.0/0, ::/0\n" +
            "PersistentKeepalive = 25\n";

        /// <summary>Two gateways with fixed addresses, each routing its LAN.</summary>
        internal const string SiteA =
            "[Interface]\n" +
            "PrivateKey = " + SiteAPrivate + "\n" +
            "Address = 10.9.0.1/30\n" +
            "ListenPort = 51820\n" +
            "\n" +
            "[Peer]\n" +
            "PublicKey = " + SiteBPublic + "\n" +
            "Endpoint = 198.51.100.20:51821\n" +
            "AllowedIPs = 10.9.0.2/32, 192.168.20.0/24\n";

        internal const string SiteB =
            "[Interface]\n" +
            "PrivateKey = " + SiteBPrivate + "\n" +
            "Address = 10.9.0.2/30\n" +
            "ListenPort = 51821\n" +
            "\n" +
            "[Peer]\n" +
            "PublicKey = " + SiteAPublic + "\n" +
            "Endpoint = 203.0.113.10:51820\n" +
            "AllowedIPs = 10.9.0.1/32, 192.168.10.0/24\n";

        internal static LintFile File(string text, string name = "wg0.conf", FakeEnvironment env = null)
            => LintFile.FromBytes(Encoding.UTF8.GetBytes(text), "/etc/wireguard/" + name, env ?? new FakeEnvironment());

        internal static IList<ConfigFinding> LintText(string text, FakeEnvironment env = null)
            => ConfigLinter.LintOne(File(text, env: env));
    }
}
