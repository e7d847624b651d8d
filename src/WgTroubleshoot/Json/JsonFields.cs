using System;
using System.Collections.Generic;
using System.Linq;

namespace WgTroubleshoot.Json
{
    /// <summary>
    /// Typed, bounded reads of the fields of an object <see cref="JsonReader"/> gave, for messages from another host:
    /// a missing field or null is the type's empty value, anything of another type or over its bound is a
    /// <see cref="FormatException"/> that names the field (the caller's own constant) and never the value.
    /// </summary>
    internal static class JsonFields
    {
        public const int DefaultMaxText = 16384;

        /// <summary><paramref name="item"/> as an object, or an error naming <paramref name="what"/> ("a finding").</summary>
        public static Dictionary<string, object> Object(object item, string what)
            => item as Dictionary<string, object> ?? throw new FormatException($"{what} is not a JSON object");

        /// <summary>The object of a whole message (<see cref="JsonReader.Parse"/> with <see cref="JsonLimits.Remote"/>).</summary>
        public static Dictionary<string, object> ParseObject(string json, string what) => Object(JsonReader.Parse(json, JsonLimits.Remote), what);

        /// <summary>Refuses an object with a field that is not one of <paramref name="known"/>.</summary>
        public static void OnlyKnown(Dictionary<string, object> d, string what, IList<string> known)
        {
            foreach (var k in d.Keys)
                if (!known.Contains(k)) throw new FormatException($"{what} has a field that is not one of {string.Join(", ", known)}");
        }

        public static string String(Dictionary<string, object> d, string key, int maxLength = DefaultMaxText)
        {
            if (!d.TryGetValue(key, out var v) || v == null) return null;
            if (!(v is string s)) throw new FormatException($"{key} must be a string");
            if (s.Length > maxLength) throw new FormatException($"{key} is longer than {maxLength} characters");
            return s;
        }

        public static bool Bool(Dictionary<string, object> d, string key)
        {
            if (!d.TryGetValue(key, out var v) || v == null) return false;
            return v is bool b ? b : throw new FormatException($"{key} must be true or false");
        }

        /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>; 0 when missing.</summary>
        public static long Whole(Dictionary<string, object> d, string key, long min, long max)
        {
            if (!d.TryGetValue(key, out var v) || v == null) return 0;
            if (!(v is double x) || x != Math.Floor(x) || x < min || x >= (double)max + 1)
                throw new FormatException($"{key} must be a whole number from {min} to {max}");
            return (long)x;
        }

        /// <summary>The items of an array of at most <paramref name="maxItems"/>; empty when missing.</summary>
        public static List<object> List(Dictionary<string, object> d, string key, int maxItems)
        {
            if (!d.TryGetValue(key, out var v) || v == null) return new List<object>();
            if (!(v is List<object> l) || l.Count > maxItems) throw new FormatException($"{key} must be an array of at most {maxItems} items");
            return l;
        }

        /// <summary>An array of at most <paramref name="maxItems"/> strings of at most <paramref name="maxLength"/> characters each.</summary>
        public static List<string> Strings(Dictionary<string, object> d, string key, int maxItems, int maxLength = DefaultMaxText)
            => List(d, key, maxItems).Select(x => x is string s && s.Length <= maxLength ? s
                   : throw new FormatException($"{key} must hold only strings of at most {maxLength} characters")).ToList();
    }
}
