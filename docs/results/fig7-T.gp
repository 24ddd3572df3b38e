set terminal pngcairo size 720,420 noenhanced
set output 'fig7-T.png'
set title 'Figure 7: test ELBO against T (as far as the sweep has come)'
set xlabel 'T'
set ylabel 'test ELBO (nats)'
set key top right
set grid
plot 'fig7-T.dat' index 0 using 1:2 with linespoints title 'gradient', 'fig7-T.dat' index 1 using 1:2 with linespoints title 'gradient-nodata', 'fig7-T.dat' index 2 using 1:2 with linespoints title 'error'
