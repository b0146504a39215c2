# The median over seeds of the best value found by each beam time, a dkl stream (NDJSON)
# with a field per method. Input: method, seed, beam_clock, value per measurement (tabs),
# in each run's order; -v methods="a b ..." names the fields in order, -v step=S and
# -v until=T the grid of seconds. Before a run's first measurement its best is undefined
# and counts as the lowest; a median that is undefined is written as null.
BEGIN { FS = "\t"; nm = split(methods, names, " ") }
{
    run = $1 SUBSEP $2
    if (!(run in count)) { runs[$1] = runs[$1] " " $2 }
    k = ++count[run]; clock[run, k] = $3 + 0; value[run, k] = $4
}
function median(a, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
    printf "{\"dkl_stream\":1,\"fields\":[{\"name\":\"seconds\",\"dtype\":\"f64\",\"shape\":[]}"
    for (m = 1; m <= nm; m++) printf ",{\"name\":\"%s\",\"dtype\":\"f64\",\"shape\":[]}", names[m]
    printf "],\"attrs\":{\"what\":\"median over seeds of the best value found by each second of beam time\"}}\n"
    for (t = step; t <= until + 1e-9; t += step) {
        printf "{\"seconds\":%g", t
        for (m = 1; m <= nm; m++) {
            ns = split(runs[names[m]], seeds, " ")
            for (s = 1; s <= ns; s++) {
                run = names[m] SUBSEP seeds[s]; best = -1e300
                for (k = 1; k <= count[run] && clock[run, k] <= t; k++) if (value[run, k] != "nan" && value[run, k] + 0 > best) best = value[run, k] + 0
                b[s] = best
            }
            v = median(b, ns)
            if (ns == 0 || v <= -1e299) printf ",\"%s\":null", names[m]; else printf ",\"%s\":%.9g", names[m], v
        }
        printf "}\n"
    }
}
