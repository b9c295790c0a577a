#!/usr/bin/env bash
# make sim SWEEP=NAME [SCALE=ci]: one parameter of xpro-sim swept, the others
# fixed, every point under the defenses compared; writes
# results/sim/NAME/NAME.csv (one row per point and defense) and NAME.png
# (attack dropped, legitimate dropped, detection time, victim load).
# NAME: period proxies botshare hopping mapsize policy, or all; internet (1,000
# proxies x 10,000,000 devices, not in all).
# SCALE=ci: a small version of each (well under a minute). SEEDS=N (default 2,
# ci 1): means over N seeds. docs/simulation.md reads the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
SIM=$O/bin/xpro-sim
SCALE=${SCALE:-}
[[ -x $SIM ]] || { echo "sweep: $SIM not built" >&2; exit 2; }

if [[ $SCALE == ci ]]; then
  SEEDS=${SEEDS:-1}
  BASE=(--duration 10 --attack 2-8 -U 2000 --device-period 10000)
  HOPBOTS=20; DEVS=2000; PXS=3
else
  SEEDS=${SEEDS:-2}
  BASE=(--duration 30 --attack 5-25 -U 20000 --device-period 10000)
  HOPBOTS=40; DEVS=20000; PXS=10
fi
# devices every 10 s (0.1 request/s, like experiments/scale.scn): 20,000 of
# them are 2,000 packets/s at the victim, a fifth of TF2
HOP=(-B "$HOPBOTS" --bot-rate 200 --bot-mode hop --hop 10)

# point NAME X DEFENSE ARGS...: one row of NAME's CSV
point() {
  local name=$1 x=$2 def=$3 out
  shift 3
  out=$("$SIM" -q --seeds "$SEEDS" -d "$def" "$@")
  jq -r --arg x "$x" --arg d "$def" '
    def v(k): (.[k] | if type == "object" then .mean else . end) // "";
    [$x, $d, v("attack_drop_ratio_whole"), v("attack_drop_ratio"), v("legit_drop_ratio"),
     v("detect_ms"), v("victim_pps_attack_mean"), .evictions, .merges, .records] | @csv' <<< "$out" \
    >> "$CSV"
}

plot() {
  local name=$1 xlabel=$2 logx=$3 tmp d
  tmp=$(mktemp -d)
  # one file per defense, so that each line is drawn unbroken
  for d in $(tail -n +2 "$CSV" | cut -d, -f2 | tr -d '"' | awk '!s[$0]++'); do
    grep "^[^,]*,\"$d\"," "$CSV" > "$tmp/$d.csv"
  done
  {
    echo "set terminal pngcairo size 1100,760 font ',10'"
    echo "set output '$DIR/$name.png'"
    echo "set datafile separator ','"
    echo "set grid"
    echo "set yrange [0:*]"
    [[ $logx == 1 ]] && echo "set logscale x"
    echo "set multiplot layout 2,2 title 'xpro-sim sweep: $name ($([[ $SCALE == ci ]] && echo ci || echo default) scale, $SEEDS seed(s))'"
    local col title
    for spec in "3:attack dropped (whole attack)" "5:legitimate dropped" "6:detection time (ms)" \
                "7:victim load during the attack (packets/s)"; do
      col=${spec%%:*}; title=${spec#*:}
      echo "set title '$title'; set xlabel '$xlabel'"
      local first=1 line="" f
      for f in "$tmp"/*.csv; do
        [[ $first == 1 ]] || line+=", "
        line+="'$f' using 1:$col with linespoints title '$(basename "$f" .csv)'"
        first=0
      done
      echo "plot $line"
    done
    echo "unset multiplot"
  } | gnuplot 2> >(grep -v -e '^Warning: empty y range' -e 'warning: Skipping data file with no valid points' >&2)
  rm -rf "$tmp"
}

sweep() {
  local name=$1
  DIR=results/sim/$name
  CSV=$DIR/$name.csv
  mkdir -p "$DIR"
  echo 'x,defense,attack_drop_ratio_whole,attack_drop_ratio,legit_drop_ratio,detect_ms,victim_pps_attack_mean,evictions,merges,records' > "$CSV"
  local t0=$SECONDS x d xs
  case $name in
  period) # the sync period against a hopping botnet (each proxy alone sees 1/P of a bot)
    xs="10 20 50 100 200 500 1000 2000 5000 10000"
    [[ $SCALE == ci ]] && xs="10 100 1000 5000"
    for x in $xs; do
      for d in xpro xpro-isolated; do
        point period "$x" "$d" "${BASE[@]}" "${HOP[@]}" -P "$PXS" --set sync_period_ms="$x" --delay-ms 0.5
      done
    done
    plot period "sync period (ms)" 1 ;;
  proxies) # how many proxies share: a bot hopping over all of them
    # (1,000 proxies: the internet sweep; with --feed all every proxy merges every
    # change and rescans every record each period: P^2 work)
    xs="1 2 3 5 10 20 50 100 200"
    [[ $SCALE == ci ]] && xs="1 2 3 10 30"
    for x in $xs; do
      for d in xpro xpro-isolated; do
        point proxies "$x" "$d" "${BASE[@]}" "${HOP[@]}" -P "$x"
      done
    done
    plot proxies "proxies" 1 ;;
  botshare) # low-rate bots (90 pps each, under TF1) among a fixed number of clients
    xs="0.001 0.002 0.005 0.01 0.02 0.05 0.1 0.2"
    [[ $SCALE == ci ]] && xs="0.01 0.05 0.1"
    local n b
    for x in $xs; do
      n=$(( DEVS + HOPBOTS ))
      b=$(awk -v n="$n" -v s="$x" 'BEGIN { b = int(n * s + 0.5); print b < 1 ? 1 : b }')
      for d in xpro xpro-fair; do
        point botshare "$x" "$d" "${BASE[@]}" -U $(( n - b )) -B "$b" --bot-rate 90 --bot-mode spread -P "$PXS"
      done
    done
    plot botshare "bot share of the clients" 1 ;;
  hopping) # packets per proxy before a bot moves on
    xs="1 2 5 10 20 50 100 200 500 1000 10000"
    [[ $SCALE == ci ]] && xs="1 10 100 1000"
    for x in $xs; do
      for d in xpro xpro-isolated; do
        point hopping "$x" "$d" "${BASE[@]}" -B "$HOPBOTS" --bot-rate 200 --bot-mode hop --hop "$x" -P "$PXS"
      done
    done
    plot hopping "hop (packets per proxy)" 1 ;;
  mapsize) # records per proxy: every proxy learns every record through the sync
    xs="1000 2000 5000 10000 15000 20000 25000 50000 100000"
    [[ $SCALE == ci ]] && xs="500 1000 2000 4000"
    for x in $xs; do
      for d in xpro xpro-fair; do
        point mapsize "$x" "$d" "${BASE[@]}" "${HOP[@]}" -P "$PXS" --map-size "$x"
      done
    done
    plot mapsize "record map size per proxy" 1 ;;
  policy) # the three X-Pro defenses on the three validated scenarios (x: 1 flood, 2 hopping, 3 lowrate)
    local i=1 s
    for s in flood hopping lowrate; do
      for d in xpro xpro-fair xpro-isolated; do
        point policy "$i" "$d" -s "experiments/$s.scn" ${SCALE:+--scale ci}
      done
      i=$((i + 1))
    done
    plot policy "scenario (1 flood, 2 hopping, 3 lowrate)" 0 ;;
  internet) # 1,000 proxies, 10,000,000 devices, 60 simulated seconds (not in `all`: about an hour)
    # devices every 10 s (1,000,000 requests/s in all), TF2 = 2,000,000 (the victim's
    # capacity, twice the legitimate load); 1,000 bots at 200 pps hopping to the next
    # proxy every 200 packets (1 s): 200,000 pps, under TF2, so only TF1 catches
    # them; 16,384 records per proxy (each holds ~10,000 devices and the bots that
    # visited it); --feed known (see docs/simulation.md). Time and peak memory from
    # /usr/bin/time -v. INTERNET_PERIODS overrides the periods.
    xs=${INTERNET_PERIODS:-"10000 1000 100"}
    [[ $SCALE == ci ]] && xs="1000 100"
    local P=1000 U=10000000 D=60
    [[ $SCALE == ci ]] && { P=100; U=100000; D=20; }
    sed -i '1s/$/,wall_s,cpu_s,max_rss_kb/' "$CSV"
    local first=1
    for x in $xs; do
      # xpro-isolated shares nothing: the period changes little; run once
      for d in xpro ${first:+xpro-isolated}; do
        /usr/bin/time -v -o "$DIR/time.txt" "$SIM" -q -d "$d" -P "$P" -U "$U" --device-period 10000 \
          -B 1000 --bot-rate 200 --bot-mode hop --hop 200 --duration "$D" --attack 5-$((D - 5)) \
          --set tf2=2000000 --set sync_period_ms="$x" --map-size 16384 --feed known > "$DIR/run.json"
        jq -r --arg x "$x" --arg d "$d" '
          [$x, $d, .attack_drop_ratio_whole, .attack_drop_ratio, .legit_drop_ratio, (.detect_ms // ""),
           .victim_pps_attack_mean, .evictions, .merges, .records] | @csv' "$DIR/run.json" | tr -d '\n' >> "$CSV"
        awk -F': ' '/Elapsed/ { n = split($2, t, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + t[i] }
                    /User time/ { u = $2 } /System time/ { s = $2 } /Maximum resident/ { m = $2 }
                    END { printf ",%.1f,%.1f,%d\n", w, u + s, m }' "$DIR/time.txt" >> "$CSV"
        tail -n 1 "$CSV" >&2
      done
      first=
    done
    rm -f "$DIR/run.json" "$DIR/time.txt"
    SEEDS=1 plot internet "sync period (ms)" 1 ;;
  *)
    echo "sweep: unknown SWEEP '$name' (period proxies botshare hopping mapsize policy all internet)" >&2
    exit 2 ;;
  esac
  echo "sweep $name: $(( SECONDS - t0 )) s -> $CSV, $DIR/$name.png" >&2
}

case ${1:-} in
--plot) # --plot NAME XLABEL LOGX: redraw NAME.png from its CSV (rows added by hand)
  DIR=results/sim/$2; CSV=$DIR/$2.csv; plot "$2" "$3" "$4" ;;
all) for s in botshare hopping mapsize policy period proxies; do sweep "$s"; done ;;
"") echo "usage: make sim SWEEP=period|proxies|botshare|hopping|mapsize|policy|all|internet [SCALE=ci]" >&2; exit 2 ;;
*) sweep "$1" ;;
esac
